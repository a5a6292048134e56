using System.Diagnostics;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds;
using Xunit;
using Xunit.Abstractions;
using static Sidecar.Core.Tests.Xds.XdsTestResources;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// The client's own share of a big push (envelope decode, per-resource checks, warming, one publish):
/// 10,000 EDS clusters and 100,000 endpoints in one CDS and one EDS response. Translation is not included
/// (the recording translator accepts at once); the figure is printed for the report.
/// </summary>
public sealed class XdsScaleTests(ITestOutputHelper output)
{
    [Fact]
    public void TenThousandClustersAndHundredThousandEndpointsApplyWithinASecond()
    {
        const int clusters = 10_000, endpointsPerCluster = 10;
        var cds = new List<byte[]>(clusters);
        var eds = new List<byte[]>(clusters);
        for (int i = 0; i < clusters; i++)
        {
            string name = $"outbound|8080||svc-{i}.ns.svc.cluster.local";
            cds.Add(Cluster(name));
            eds.Add(Assignment(name, i, endpointsPerCluster));
        }
        byte[] cdsResponse = EncodeSotw(Sotw(XdsTypeUrls.Cluster, "v1", "n1", [.. cds]));
        byte[] edsResponse = EncodeSotw(Sotw(XdsTypeUrls.ClusterLoadAssignment, "v1", "n2", [.. eds]));
        byte[] ldsResponse = EncodeSotw(Sotw(XdsTypeUrls.Listener, "v1", "n3", Listener("virtualOutbound")));

        TimeSpan best = TimeSpan.MaxValue;
        for (int run = 1; run <= 3; run++) // the first run includes JIT
        {
            var translator = new RecordingTranslator();
            var session = new SotwSession(Node(), new XdsResourceStore(translator));
            session.StartStream();
            GC.Collect();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            Assert.Equal(XdsResponseOutcome.Accepted, session.OnResponse(cdsResponse, 0).Outcome);
            Assert.Equal(XdsResponseOutcome.Accepted, session.OnResponse(ldsResponse, 0).Outcome);
            var last = session.OnResponse(edsResponse, 0);
            sw.Stop();
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.True(last.Published);
            Assert.Equal(clusters, translator.Last!.Endpoints.Count);
            if (sw.Elapsed < best) best = sw.Elapsed;
            output.WriteLine($"run {run}: CDS {cdsResponse.Length / 1024} KiB + EDS {edsResponse.Length / 1024} KiB ({clusters} clusters, " +
                $"{clusters * endpointsPerCluster} endpoints): {sw.Elapsed.TotalMilliseconds:F0} ms, {allocated / (1024 * 1024)} MiB allocated by the client");
        }
        Assert.True(best < TimeSpan.FromSeconds(1), $"took {best}");
    }

    /// <summary>ClusterLoadAssignment{cluster_name=1, endpoints=2 LocalityLbEndpoints{lb_endpoints=2 LbEndpoint{endpoint=1
    /// Endpoint{address=1 Address{socket_address=1 SocketAddress{address=2 port_value=3}}}}}}.</summary>
    private static byte[] Assignment(string name, int index, int endpoints)
    {
        var w = new ProtoWriter(64 + endpoints * 32);
        w.WriteString(1, name);
        int locality = w.BeginMessage(2);
        for (int e = 0; e < endpoints; e++)
        {
            int lb = w.BeginMessage(2);
            int endpoint = w.BeginMessage(1);
            int address = w.BeginMessage(1);
            int socket = w.BeginMessage(1);
            w.WriteString(2, $"10.{index >> 8 & 255}.{index & 255}.{e + 1}");
            w.WriteUInt64(3, 8080);
            w.EndMessage(socket);
            w.EndMessage(address);
            w.EndMessage(endpoint);
            w.EndMessage(lb);
        }
        w.EndMessage(locality);
        return w.ToArray();
    }
}
