using System.Diagnostics;
using Sidecar.Core.Tests.Xds.Schema;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Schema;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>
/// A figure, not a benchmark and not an assertion: time and allocation to decode every resource of the
/// largest real dump from protobuf into trees (Stopwatch + the thread's allocation counter, after a warm-up).
/// </summary>
[Collection(XdsDecodingCollection.Name)]
public sealed class DecodeCostTests(ITestOutputHelper output)
{
    [Fact]
    public void DecodeTimeAndAllocationForTheLargestDump()
    {
        string largest = ConformanceResources.DumpFiles.OrderByDescending(f => new FileInfo(f).Length).First();
        string source = Path.GetRelativePath(XdsTestTools.IstioConformance, largest);
        List<(MessageDescriptor Type, byte[] Bytes)> wire = [];
        foreach (DumpResource r in ConformanceResources.All.Where(r => r.Source == source))
        {
            MessageDescriptor md = XdsSchema.Envoy.FindMessage(r.TypeName)!;
            XdsEncodeResult e = ProtoTreeEncoder.Encode(md, r.Tree);
            Assert.True(e.IsSuccess, e.ToString());
            wire.Add((md, e.Bytes!));
        }
        Assert.NotEmpty(wire);
        int totalBytes = wire.Sum(w => w.Bytes.Length);
        const int Rounds = 20;
        // Warm-up: schema parse, pools, and long enough for tiered JIT to replace tier-0 code.
        for (Stopwatch warm = Stopwatch.StartNew(); warm.ElapsedMilliseconds < 1500;)
        {
            DecodeAll(wire);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        // Process CPU time too: on this shared 2-core machine wall time mostly measures the neighbours.
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        Stopwatch sw = Stopwatch.StartNew();
        for (int i = 0; i < Rounds; i++)
        {
            DecodeAll(wire);
        }
        sw.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        double ms = sw.Elapsed.TotalMilliseconds / Rounds;
        output.WriteLine($"{source}: {wire.Count} resources, {totalBytes:N0} protobuf bytes ({new FileInfo(largest).Length:N0} bytes of JSON dump)");
        double cpuMs = cpu.TotalMilliseconds / Rounds;
        output.WriteLine($"decode all: {ms:F2} ms wall, {cpuMs:F2} ms process CPU per round ({totalBytes / 1024.0 / 1024.0 / (cpuMs / 1000):F1} MiB per CPU second), {allocated / Rounds:N0} bytes allocated per round ({(double)allocated / Rounds / totalBytes:F1} per input byte)");

        Stopwatch schemaClock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        XdsSchema parsed = XdsSchema.Parse(EnvoySchemaText.Utf8);
        output.WriteLine($"schema parse: {schemaClock.Elapsed.TotalMilliseconds:F1} ms, {GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes, {parsed.MessageCount} messages, {EnvoySchemaText.Utf8.Length:N0} bytes of schema text");
    }

    private static void DecodeAll(List<(MessageDescriptor Type, byte[] Bytes)> wire)
    {
        foreach ((MessageDescriptor type, byte[] bytes) in wire)
        {
            XdsDecodeResult r = ProtoTreeDecoder.Decode(type, bytes, "r");
            Assert.True(r.IsSuccess, r.ToString());
        }
    }
}
