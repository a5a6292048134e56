using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Routing;

namespace Sidecar.Benchmarks;

/// <summary>
/// Route match on a 1,000-route table: 10 virtual hosts (exact domains) + a "*" host, 100 prefix routes
/// each, first-match in config order (Envoy semantics). The request view is a parsed Http1Head.
/// </summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private RouteTable _table = null!;
    private Http1Head _first = null!;
    private Http1Head _middle = null!;
    private Http1Head _last = null!;
    private Http1Head _miss = null!;

    [GlobalSetup]
    public void Setup()
    {
        var hosts = ImmutableArray.CreateBuilder<VirtualHostModel>();
        for (int h = 0; h < 10; h++)
        {
            var routes = ImmutableArray.CreateBuilder<RouteModel>();
            for (int r = 0; r < 100; r++)
            {
                routes.Add(new RouteModel
                {
                    Name = $"h{h}r{r}",
                    Match = new RouteMatchModel { Kind = PathMatchKind.Prefix, Value = $"/svc{r}/api/" },
                    Action = new RouteActionModel { Cluster = $"c{h}_{r}" },
                });
            }
            hosts.Add(new VirtualHostModel { Name = $"h{h}", Domains = [$"host{h}.example.com"], Routes = routes.ToImmutable() });
        }
        hosts.Add(new VirtualHostModel
        {
            Name = "fallback",
            Domains = ["*"],
            Routes = [new RouteModel { Match = new RouteMatchModel { Kind = PathMatchKind.Prefix, Value = "/" }, Action = new RouteActionModel { Cluster = "fallback" } }],
        });
        _table = RouteTable.Build(new RouteConfigModel { Name = "bench", VirtualHosts = hosts.ToImmutable() });
        _first = Parse("host5.example.com", "/svc0/api/items?id=1");
        _middle = Parse("host5.example.com", "/svc50/api/items?id=1");
        _last = Parse("host5.example.com", "/svc99/api/items?id=1");
        _miss = Parse("host5.example.com", "/nothing/here");
        if (Match(_last) != "c5_99" || Match(_miss) is not null)
        {
            throw new InvalidOperationException("route table does not match as expected");
        }
    }

    private static Http1Head Parse(string host, string target)
    {
        var head = new Http1Head();
        var seq = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n"));
        var reader = new SequenceReader<byte>(seq);
        if (Http1HeadParser.ParseRequest(ref reader, head, Http1Limits.Default, out _) != Http1ParseStatus.Complete)
        {
            throw new InvalidOperationException("parse failed");
        }
        return head;
    }

    private string? Match(Http1Head head)
    {
        RouteModel? r = _table.Match(ref head, out _);
        return r?.Action?.Cluster;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _first.Dispose();
        _middle.Dispose();
        _last.Dispose();
        _miss.Dispose();
    }

    [Benchmark]
    public string? MatchFirstRoute() => Match(_first);

    [Benchmark]
    public string? MatchRoute50Of100() => Match(_middle);

    [Benchmark]
    public string? MatchLastRoute() => Match(_last);

    [Benchmark]
    public string? MatchNone() => Match(_miss);
}
