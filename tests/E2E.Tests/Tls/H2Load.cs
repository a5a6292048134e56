using System.Text.RegularExpressions;
using Sidecar.E2E.Tests.Harness;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>h2load's summary lines: "requests: N total, … N succeeded, N failed, N errored, N timeout" and "status codes: N 2xx, …".</summary>
public sealed partial record H2LoadResult(long Succeeded, long Failed, long Errored, long Timeout, long Status2xx, long Non2xx, ProcResult Raw)
{
    public static async Task<H2LoadResult> Run(IEnumerable<string> args, TimeSpan timeout) =>
        Parse(await Proc.Run(TestEnv.Tool("h2load", "nghttp2-client"), args, timeout));

    public static H2LoadResult Parse(ProcResult r)
    {
        var req = Requests().Match(r.StdOut);
        var st = Status().Match(r.StdOut);
        long G(Match m, int i) => m.Success ? long.Parse(m.Groups[i].Value) : -1;
        return new H2LoadResult(G(req, 1), G(req, 2), G(req, 3), G(req, 4), G(st, 1),
            st.Success ? G(st, 2) + G(st, 3) + G(st, 4) : -1, r);
    }

    public bool Clean => Succeeded > 0 && Failed == 0 && Errored == 0 && Timeout == 0 && Non2xx == 0 && Status2xx == Succeeded;

    public override string ToString() => Raw.ToString();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout")]
    private static partial Regex Requests();

    [GeneratedRegex(@"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")]
    private static partial Regex Status();
}
