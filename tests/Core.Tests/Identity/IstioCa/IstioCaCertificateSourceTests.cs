using System.Security.Cryptography.X509Certificates;
using System.Diagnostics;
using Sidecar.Core.Identity;
using Sidecar.Core.Identity.IstioCa;
using Sidecar.TestPeers.IstioCa;
using Xunit;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>The rotating source in real time with short-lived certificates (4 s: rotation due ~2 s after issue).</summary>
public sealed class IstioCaCertificateSourceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task FirstCertificateIsAwaitableAndRotationHappensNearHalfLife()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        var changes = new List<(WorkloadCertificate Certificate, long Ticks)>();
        var watch = Stopwatch.StartNew();
        source.Changed += c =>
        {
            lock (changes) changes.Add((c, watch.ElapsedTicks));
        };

        var first = await source.WaitForFirstAsync().WaitAsync(Patience);
        Assert.Same(first, source.Current);
        Assert.Equal(CaTestBed.Identity(), first.SpiffeId);
        // Scheduled at notAfter - (0.5 ± 0.01) * 4 s, i.e. 1.96..2.04 s after notBefore.
        var scheduled = source.NextFetch;
        Assert.InRange(scheduled - first.NotBefore, TimeSpan.FromSeconds(1.95), TimeSpan.FromSeconds(2.05));

        var second = await NextChange(source, first);
        var observed = DateTimeOffset.UtcNow;
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.Same(second, source.Current);
        // Not before the schedule; after it by no more than one fetch (key generation + call) on a busy 2-core machine.
        Assert.InRange(observed - scheduled, TimeSpan.Zero, TimeSpan.FromSeconds(4));
        Assert.True(second.NotBefore >= first.NotBefore);
        // A new key per rotation, as pilot-agent does.
        Assert.NotEqual(first.Leaf.GetPublicKeyString(), second.Leaf.GetPublicKeyString());
        lock (changes) Assert.Contains(changes, c => ReferenceEquals(c.Certificate, second));
        Assert.Equal(0, source.Failures);
    }

    [Fact]
    public async Task CaDownKeepsTheOldCertificateAndRetriesWithBackoff()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        var first = await source.WaitForFirstAsync().WaitAsync(Patience);

        bed.Ca.FailNext(4, TestCaFault.Unavailable);
        var second = await NextChange(source, first);

        Assert.Equal(4, source.Failures);
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        var requests = bed.Ca.Requests;
        Assert.Equal(6, requests.Count); // first, 4 refused, the rotation that succeeded
        Assert.Null(source.LastFailure);
    }

    [Fact]
    public async Task OldCertificateIsServedWhileTheCaFails()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        var first = await source.WaitForFirstAsync().WaitAsync(Patience);
        bed.Ca.FailNext(1000, TestCaFault.Unavailable);

        var deadline = DateTime.UtcNow + Patience;
        while (source.Failures < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.True(source.Failures >= 3, $"failures: {source.Failures}");
        Assert.Same(first, source.Current);
        Assert.Equal(IstioCaError.CallFailed, source.LastFailure!.Error);
        // Backoff: 100 ms doubling to the 400 ms cap (±20 %), so a few seconds of outage is a handful of calls, not hundreds.
        await Task.Delay(2000);
        var calls = bed.Ca.Requests.Count;
        Assert.InRange(calls, 4, 20);
    }

    [Theory]
    [InlineData(TestCaFault.Garbage)]
    [InlineData(TestCaFault.WrongIdentity)]
    [InlineData(TestCaFault.UntrustedChain)]
    public async Task BadAnswersAtRotationAreRefusedAndTheOldCertificateKept(TestCaFault fault)
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        var published = new List<WorkloadCertificate>();
        source.Changed += c =>
        {
            lock (published) published.Add(c);
        };
        var first = await source.WaitForFirstAsync().WaitAsync(Patience);
        bed.Ca.FailNext(2, fault);

        var second = await NextChange(source, first);
        Assert.Equal(2, source.Failures);
        Assert.Equal(CaTestBed.Identity(), second.SpiffeId);
        lock (published)
        {
            // Nothing from the two bad answers was ever published.
            Assert.All(published, c => Assert.Equal(CaTestBed.Identity(), c.SpiffeId));
            Assert.DoesNotContain(published, c => c.SerialNumber == bed.Ca.Requests[1].IssuedSerial);
        }
    }

    [Fact]
    public async Task ARepeatedFailureIsLoggedOnceAndSuccessIsLogged()
    {
        await using var bed = await CaTestBed.StartAsync();
        bed.Ca.FailNext(4, TestCaFault.Unavailable);
        bed.Ca.FailNext(2, TestCaFault.WrongIdentity);
        var logger = new RecordingLogger();
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions(), logger);
        await source.WaitForFirstAsync().WaitAsync(Patience);

        Assert.Equal(6, source.Failures);
        var entries = logger.Entries;
        // One line for the outage, one for the wrong identity (a different problem), one for the certificate issued.
        var failures = entries.Where(e => e.EventId == 5101).Select(e => e.Message).ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains("CallFailed", failures[0], StringComparison.Ordinal);
        Assert.Contains("keeping serial none", failures[0], StringComparison.Ordinal);
        Assert.Contains("WrongIdentity", failures[1], StringComparison.Ordinal);
        Assert.Contains("ns/other/sa/intruder", failures[1], StringComparison.Ordinal);
        Assert.Single(entries, e => e.EventId == 5100);
    }

    [Fact]
    public async Task EcdsaRotation()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions() with { KeyAlgorithm = WorkloadKeyAlgorithm.EcdsaP256 });
        var first = await source.WaitForFirstAsync().WaitAsync(Patience);
        var second = await NextChange(source, first);

        Assert.NotNull(first.Leaf.GetECDsaPrivateKey());
        Assert.NotNull(second.Leaf.GetECDsaPrivateKey());
        Assert.All(bed.Ca.Requests, r => Assert.Equal(256, r.CsrKeySize));
    }

    [Fact]
    public async Task WaitForFirstWaitsThroughFailures()
    {
        await using var bed = await CaTestBed.StartAsync();
        bed.Ca.FailNext(3, TestCaFault.Unavailable);
        await using var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        Assert.Null(source.Current);
        var first = await source.WaitForFirstAsync().WaitAsync(Patience);
        Assert.Equal(3, source.Failures);
        Assert.Same(first, source.Current);
    }

    [Fact]
    public async Task DisposeStopsFetching()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        var source = IstioCaCertificateSource.Start(bed.ClientOptions());
        await source.WaitForFirstAsync().WaitAsync(Patience);
        await source.DisposeAsync();
        var calls = bed.Ca.Requests.Count;
        await Task.Delay(3000);
        Assert.Equal(calls, bed.Ca.Requests.Count);
    }

    private static async Task<WorkloadCertificate> NextChange(IstioCaCertificateSource source, WorkloadCertificate previous)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (source.Current is { } current && !ReferenceEquals(current, previous)) return current;
            await Task.Delay(20);
        }
        throw new TimeoutException("no rotation within " + Patience);
    }
}
