using Sidecar.Core.Xds;
using Xunit;

namespace Sidecar.Core.Tests.Xds;

public sealed class XdsBackoffTests
{
    [Fact]
    public void DelaysAreJitteredBelowADoublingCeilingCappedAtTheMaximum()
    {
        var backoff = new XdsBackoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), new Random(7));
        double[] ceilings = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
        var delays = new List<double>();
        foreach (double ceiling in ceilings)
        {
            double ms = backoff.Next().TotalMilliseconds;
            Assert.InRange(ms, 0, ceiling);
            delays.Add(ms);
        }
        Assert.True(delays.Distinct().Count() == delays.Count, "jitter: no two delays alike");
        Assert.True(delays.Skip(6).Max() > 500, "the cap is 30 s, not the base");
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 0, 500);
    }

    [Fact]
    public void ManyClientsDoNotReconnectInLockstep()
    {
        var first = new List<double>();
        for (int i = 0; i < 100; i++)
        {
            var b = new XdsBackoff(random: new Random(i));
            b.Next();
            b.Next();
            first.Add(b.Next().TotalMilliseconds); // third attempt: ceiling 2 s
        }
        Assert.True(first.Max() - first.Min() > 1000, $"spread {first.Min()}..{first.Max()}");
    }
}
