using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// Capture with nft REDIRECT in a throwaway netns, a use_original_dst listener, and an ORIGINAL_DST
/// cluster: the request reaches the address the client dialled, through the sidecar. Needs root (CI is root).
/// </summary>
public sealed class OriginalDstTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("tcp", "tcp.capture.downstream_cx_total: 1")]
    [InlineData("http", "http.capture.downstream_rq_total: 1")]
    public async Task Captured_connection_reaches_its_original_destination_through_the_sidecar(string mode, string stat)
    {
        string bin = TestEnv.RequireSidecar();
        using var dir = TestEnv.NewTempDir("odst");
        var r = await Proc.Run("bash", [Path.Combine(TestEnv.PeersDir, "original_dst.sh"), bin, mode, dir.Path], TimeSpan.FromSeconds(90));
        output.WriteLine(r.ToString());
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("BODY=hello from the original destination", r.StdOut, StringComparison.Ordinal);
        Assert.Contains(stat, r.StdOut, StringComparison.Ordinal);
        Assert.Contains("cluster.original_dst.upstream_cx_total: 1", r.StdOut, StringComparison.Ordinal);
    }
}
