using System.Text.Json;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// <c>/config_dump</c> of the published binary with a static config: the page is streamed (no content-length, the
/// connection closes it) and is Envoy's <c>ConfigDump</c> with the BootstrapConfigDump; <c>?mask=</c> narrows it,
/// <c>?resource=</c> of a list a static config does not have gives no entries, and refused queries are plain-text 404/400
/// answered before any of the page is written.
/// </summary>
public sealed class AdminConfigDumpTests(UpstreamFixture fixture, ITestOutputHelper output) : IClassFixture<UpstreamFixture>
{
    private static async Task<RawHttp.Response> Get(int adminPort, string path) =>
        await RawHttp.Exchange(adminPort, $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(10));

    [Fact]
    public async Task The_dump_is_streamed_and_every_query_form_answers()
    {
        var (sc, _) = await Sidecars.InFrontOf(fixture.Peers, output);
        using var _s = sc;

        RawHttp.Response whole = await Get(sc.AdminPort, "/config_dump");
        Assert.True(whole.Status == 200, whole.Head);
        Assert.Null(whole.Header("content-length"));
        Assert.Equal("close", whole.Header("connection"));
        Assert.Equal("application/json", whole.Header("content-type"));
        Assert.True(whole.ClosedByPeer);
        using (JsonDocument doc = JsonDocument.Parse(whole.Body))
        {
            JsonElement bootstrap = Assert.Single(doc.RootElement.GetProperty("configs").EnumerateArray());
            Assert.Equal("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", bootstrap.GetProperty("@type").GetString());
            Assert.Equal(sc.AdminPort, bootstrap.GetProperty("bootstrap").GetProperty("admin").GetProperty("address")
                .GetProperty("socket_address").GetProperty("port_value").GetInt32());
        }

        RawHttp.Response masked = await Get(sc.AdminPort, "/config_dump?mask=bootstrap.admin");
        Assert.True(masked.Status == 200, masked.Head);
        using (JsonDocument doc = JsonDocument.Parse(masked.Body))
        {
            JsonElement dump = Assert.Single(doc.RootElement.GetProperty("configs").EnumerateArray());
            Assert.Equal(["admin"], dump.GetProperty("bootstrap").EnumerateObject().Select(p => p.Name));
        }

        RawHttp.Response none = await Get(sc.AdminPort, "/config_dump?resource=dynamic_listeners&include_eds");
        Assert.True(none.Status == 200, none.Head);
        using (JsonDocument doc = JsonDocument.Parse(none.Body)) Assert.Equal(0, doc.RootElement.GetProperty("configs").GetArrayLength());

        RawHttp.Response unknown = await Get(sc.AdminPort, "/config_dump?resource=no_such_list");
        Assert.Equal(404, unknown.Status);
        Assert.StartsWith("text/plain", unknown.Header("content-type"));
        Assert.Contains("no_such_list", unknown.Body);
        Assert.Equal(400, (await Get(sc.AdminPort, "/config_dump?mask=,")).Status);
        Assert.Equal(200, (await Get(sc.AdminPort, "/ready")).Status);
    }
}
