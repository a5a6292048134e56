using System.Collections.Immutable;
using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Balancing;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Pools;

namespace Sidecar.Benchmarks;

/// <summary>Load-balancer pick over a 10-endpoint STATIC cluster, per lb_policy.</summary>
[MemoryDiagnoser]
public class BalancingBenchmarks
{
    private ClusterState _cluster = null!;

    [Params(LbPolicy.RoundRobin, LbPolicy.LeastRequest, LbPolicy.Random)]
    public LbPolicy Policy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoints = ImmutableArray.CreateBuilder<EndpointModel>();
        for (int i = 0; i < 10; i++)
        {
            endpoints.Add(new EndpointModel { Host = $"10.0.0.{i + 1}", Port = 8080, Address = IPAddress.Parse($"10.0.0.{i + 1}"), Weight = 1 + (i % 3) });
        }
        _cluster = new ClusterState(new ClusterModel
        {
            Name = "bench",
            Type = DiscoveryType.Static,
            LbPolicy = Policy,
            Localities = [new LocalityEndpointsModel { Endpoints = endpoints.ToImmutable() }],
        });
    }

    [GlobalCleanup]
    public void Cleanup() => _cluster.Dispose();

    [Benchmark]
    public EndpointState? Pick() => _cluster.Pick();
}

/// <summary>
/// Upstream pool acquire + release of an idle keep-alive connection. The connection is backed by an
/// in-memory duplex pipe (DefaultConnectionContext), not a socket: the pool logic, its lock and the
/// liveness check (a non-blocking PipeReader.TryRead, the same call made on a socket transport's pipe)
/// are measured; kernel work is not (it is in the whole-request benchmark).
/// </summary>
[MemoryDiagnoser]
public class PoolBenchmarks
{
    private Http1UpstreamPool _pool = null!;
    private EndpointState _endpoint = null!;
    private Pipe _in = null!;
    private Pipe _out = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new Http1UpstreamPool(64, TimeSpan.FromHours(1));
        _endpoint = new EndpointState(new IPEndPoint(IPAddress.Loopback, 8080));
        _in = new Pipe();
        _out = new Pipe();
        for (int i = 0; i < 8; i++)
        {
            var transport = new DuplexPipe(_in.Reader, _out.Writer);
            var app = new DuplexPipe(_out.Reader, _in.Writer);
            _pool.Release(new UpstreamConnection(new DefaultConnectionContext($"c{i}", transport, app), _endpoint));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark]
    public bool AcquireRelease()
    {
        UpstreamConnection c = _pool.TryAcquire(_endpoint) ?? throw new InvalidOperationException("pool empty");
        return _pool.Release(c);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
