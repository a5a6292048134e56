using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class RoutingAllocationTests
{
    private static RouteTable BuildLargeTable()
    {
        var routes = new RouteModel[1000];
        for (int i = 0; i < 996; i++)
        {
            routes[i] = (i % 4) switch
            {
                0 => RouteConfigs.Route("p" + i, PathMatchKind.Path, "/svc/" + i),
                1 => RouteConfigs.Route("c" + i, PathMatchKind.Prefix, "/SVC/" + i + "/", caseSensitive: false),
                2 => RouteConfigs.Route("s" + i, PathMatchKind.PathSeparatedPrefix, "/sep/" + i),
                _ => Prefix("h" + i, "/hdr", Header("x-route", Str(StringMatchKind.Exact, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            };
        }

        routes[996] = RouteConfigs.Route("regex", PathMatchKind.SafeRegex, "/users/[0-9]+/orders");
        routes[997] = RouteConfigs.Route("query", PathMatchKind.Prefix, "/q",
            query: [new QueryParameterMatcherModel { Name = "v", Matcher = Str(StringMatchKind.Exact, "2") }]);
        routes[998] = Prefix("joined", "/j", Header("x-multi", Str(StringMatchKind.SafeRegex, "a,b")));
        routes[999] = Prefix("default", "/");

        var hosts = new VirtualHostModel[1000];
        for (int i = 0; i < 999; i++)
        {
            hosts[i] = Host("vh" + i, ["svc" + i + ".ns.svc.cluster.local", "*.w" + i + ".example"], Prefix("r", "/"));
        }

        hosts[999] = Host("big", ["big.example.com", "big.*"], routes);
        return RouteTable.Build(RouteConfig(hosts));
    }

    [Fact]
    public void Ten_thousand_matches_on_a_thousand_route_table_allocate_nothing()
    {
        RouteTable table = BuildLargeTable();
        TestRequest[] requests =
        [
            TestRequest.Get("BIG.example.com:443", "/svc/992?x=1"),
            TestRequest.Get("big.other", "/users/42/orders?x=1"),
            TestRequest.Get("big.example.com", "/hdr", "x-route: 995"),
            TestRequest.Get("big.example.com", "/q?a=1&v=2"),
            TestRequest.Get("big.example.com", "/j", "x-multi: a", "x-multi: b"),
            TestRequest.Get("big.example.com", "/nothing-else"),
            TestRequest.Get("a.w7.example", "/"),
        ];
        string[] expected = ["p992", "regex", "h995", "query", "joined", "default", "r"];

        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i], table.Match(ref requests[i], out _)?.Name);
        }

        int matched = 0;
        for (int i = 0; i < 1000; i++)
        {
            matched += Run(table, requests);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000 / requests.Length + 1; i++)
        {
            matched += Run(table, requests);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(matched > 0);
    }

    private static int Run(RouteTable table, TestRequest[] requests)
    {
        int matched = 0;
        for (int r = 0; r < requests.Length; r++)
        {
            if (table.Match(ref requests[r], out _) is not null)
            {
                matched++;
            }
        }

        return matched;
    }
}
