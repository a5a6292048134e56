using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Sidecar.Bench.LoadGen;

namespace Sidecar.Benchmarks.Throughput;

/// <summary>
/// Throughput of each proxy PROCESS (Sidecar's AOT binary, HAProxy, nginx, YARP, Envoy when present),
/// side by side in BenchmarkDotNet's own report: one operation = 1,000 keep-alive GETs of /1k over 4
/// loopback connections (one request in flight per connection, never pipelined), so Mean ÷ 1,000 is the
/// time per request. Extra columns: the proxy's CPU µs per request (from /proc/&lt;pid&gt;/stat over all the
/// batches BDN ran) and the ratio of the mean to HAProxy's. Run with --inProcess (see bench/README.md).
/// </summary>
[Config(typeof(ThroughputConfig))]
public class ProxyThroughputBenchmarks
{
    private const int Connections = 4;
    private const int RequestsPerOp = 1_000;
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET /1k HTTP/1.1\r\nHost: bench\r\n\r\n");

    private readonly Socket[] _sockets = new Socket[Connections];
    private readonly ResponseScanner[] _scanners = new ResponseScanner[Connections];
    private readonly byte[] _buffer = new byte[16 * 1024];
    private PeerProcesses _peers = null!;
    private long _cpuTicksAtStart;
    private long _requests;

    [ParamsSource(nameof(Proxies))]
    public string Proxy { get; set; } = "sidecar";

    public static IEnumerable<string> Proxies() => PeerProcesses.Available();

    [GlobalSetup]
    public void Setup()
    {
        _peers = new PeerProcesses();
        _peers.Start(Proxy);
        for (var i = 0; i < Connections; i++)
        {
            _sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _sockets[i].Connect(new IPEndPoint(IPAddress.Loopback, _peers.Port));
            _scanners[i] = new ResponseScanner();
        }
        Batch(); // connections to the backend, JIT of YARP
        _requests = 0;
        _cpuTicksAtStart = _peers.ProxyCpuTicks();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var ticks = _peers.ProxyCpuTicks() - _cpuTicksAtStart;
        ProxyCpuColumn.Record(Proxy, ticks, _requests);
        foreach (var s in _sockets)
        {
            s.Dispose();
        }
        _peers.Dispose();
    }

    [Benchmark(OperationsPerInvoke = RequestsPerOp)]
    public void Batch()
    {
        for (var round = 0; round < RequestsPerOp / Connections; round++)
        {
            foreach (var s in _sockets)
            {
                s.Send(Request);
            }
            for (var i = 0; i < Connections; i++)
            {
                ReadOne(i);
            }
        }
        _requests += RequestsPerOp;
    }

    private void ReadOne(int i)
    {
        while (true)
        {
            var n = _sockets[i].Receive(_buffer);
            if (n == 0)
            {
                throw new InvalidOperationException($"{Proxy} closed the connection");
            }
            // One request in flight per connection: a read never holds the start of the next response.
            if (_scanners[i].Feed(_buffer.AsSpan(0, n), out _))
            {
                if (_scanners[i].LastStatus != 200)
                {
                    throw new InvalidOperationException($"{Proxy} answered {_scanners[i].LastStatus}");
                }
                return;
            }
            if (_scanners[i].Broken)
            {
                throw new InvalidOperationException($"{Proxy} sent a malformed response");
            }
        }
    }
}

/// <summary>Adds the two custom columns to whatever job the command line chose.</summary>
internal sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig()
    {
        AddColumn(new ProxyCpuColumn(), new RatioToHaproxyColumn());
    }
}
