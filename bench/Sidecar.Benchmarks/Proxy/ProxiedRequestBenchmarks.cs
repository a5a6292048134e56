using System.Text;
using BenchmarkDotNet.Attributes;
using Sidecar.Core.Tests.Proxy;

namespace Sidecar.Benchmarks.Proxy;

/// <summary>
/// One whole proxied keep-alive request over loopback: blocking client → proxy (in-process, the same
/// ListenerRuntime/ProxySnapshot the binary runs) → blocking fixed-response backend → back. Client and
/// backend allocate nothing per request, so MemoryDiagnoser's process-wide "Allocated" is the proxy's.
/// Latency includes four loopback socket hops and thread wake-ups; it is not a CPU-per-request figure
/// (use bench/run.sh for that).
/// </summary>
[MemoryDiagnoser]
public class ProxiedRequestBenchmarks
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes(
        "GET /hello HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\nx-request-id: fixed\r\n\r\n");

    private FixedResponseBackend _backend = null!;
    private ProxyHarness _proxy = null!;
    private BlockingClient _client = null!;

    [GlobalSetup]
    public void Setup()
    {
        _backend = new FixedResponseBackend("hello, world\n");
        _proxy = ProxyHarness.StartAsync(ProxyHarness.HttpModel(_backend.Port)).GetAwaiter().GetResult();
        _client = new BlockingClient(_proxy.EndPoint);
        for (int i = 0; i < 2_000; i++)
        {
            ProxiedGet();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _backend.Dispose();
    }

    [Benchmark]
    public int ProxiedGet()
    {
        _client.Send(Request);
        int status = _client.ReadResponse(out _, out int body);
        if (status != 200 || body != 13)
        {
            throw new InvalidOperationException($"unexpected response {status} {body}");
        }
        return status;
    }
}
