using System.Runtime.InteropServices;
using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

/// <summary>
/// Rotation of Istio's mounted files: plain overwrite, Kubernetes' ..data symlink swap, bad files, and bursts.
/// Each test gets its own temp directory.
/// </summary>
public sealed partial class FileCertificateSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-certs-").FullName;
    private readonly TestPki _pki = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static FileCertificateSourceOptions Options(string dir, TimeSpan? recheck = null) =>
        new(dir) { RecheckInterval = recheck ?? TimeSpan.FromMinutes(10) }; // the watcher alone must do it unless a test says otherwise

    private (string Chain, string Key, string Serial) NewCert(string sa = "b")
    {
        var (chain, key, leaf) = _pki.Issue("spiffe://cluster.local/ns/a/sa/" + sa);
        return (chain, key, leaf.SerialNumber);
    }

    private static void WriteSet(string dir, string chain, string key, string root)
    {
        File.WriteAllText(Path.Combine(dir, "cert-chain.pem"), chain);
        File.WriteAllText(Path.Combine(dir, "key.pem"), key);
        File.WriteAllText(Path.Combine(dir, "root-cert.pem"), root);
    }

    private static async Task<bool> WaitFor(Func<bool> condition, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Environment.TickCount64 < deadline)
        {
            if (condition()) return true;
            await Task.Delay(20);
        }
        return condition();
    }

    [Fact]
    public void LoadsTheIstioMountedLayout()
    {
        var pair = IdentityTestData.MeshPair("mountedcerts-server");
        using var source = FileCertificateSource.Start(new FileCertificateSourceOptions(pair));
        Assert.Equal("spiffe://cluster.local/ns/mounted-certs/sa/server", source.Current!.SpiffeId.ToString());
        Assert.Equal(1, source.Reloads);
    }

    [Fact]
    public void MissingFilesLeaveTheSourceEmpty()
    {
        using var source = FileCertificateSource.Start(Options(_dir));
        Assert.Null(source.Current);
        Assert.Equal(CertificateLoadError.FileUnreadable, source.LastError);
    }

    [Fact]
    public async Task OverwritingTheFilesRotates()
    {
        var first = NewCert();
        WriteSet(_dir, first.Chain, first.Key, _pki.RootPem);
        using var source = FileCertificateSource.Start(Options(_dir));
        Assert.Equal(first.Serial, source.Current!.SerialNumber);
        var changed = 0;
        source.Changed += _ => Interlocked.Increment(ref changed);

        var second = NewCert();
        WriteSet(_dir, second.Chain, second.Key, _pki.RootPem);
        Assert.True(await WaitFor(() => source.Current!.SerialNumber == second.Serial), "rotation not seen");
        // Changed is raised just after Current is swapped: wait for it too (on a loaded machine the test can read between).
        await WaitFor(() => Volatile.Read(ref changed) >= 1);
        await Task.Delay(200); // a second, wrong event would arrive within this
        Assert.Equal(1, Volatile.Read(ref changed));
    }

    [Fact]
    public async Task KubernetesDataSymlinkSwapRotates()
    {
        // The kubelet's AtomicWriter layout: ..<timestamp>/ holds the files, ..data -> ..<timestamp>, and each
        // visible name is a symlink through ..data. A rotation writes a new timestamp dir and renames ..data_tmp over ..data.
        var first = NewCert();
        var v1 = Directory.CreateDirectory(Path.Combine(_dir, "..2026_11_27_01")).FullName;
        WriteSet(v1, first.Chain, first.Key, _pki.RootPem);
        File.CreateSymbolicLink(Path.Combine(_dir, "..data"), "..2026_11_27_01");
        foreach (var name in (string[])["cert-chain.pem", "key.pem", "root-cert.pem"])
            File.CreateSymbolicLink(Path.Combine(_dir, name), Path.Combine("..data", name));

        using var source = FileCertificateSource.Start(Options(_dir));
        Assert.Equal(first.Serial, source.Current!.SerialNumber);

        var second = NewCert();
        var v2 = Directory.CreateDirectory(Path.Combine(_dir, "..2026_11_27_02")).FullName;
        WriteSet(v2, second.Chain, second.Key, _pki.RootPem);
        File.CreateSymbolicLink(Path.Combine(_dir, "..data_tmp"), "..2026_11_27_02");
        Assert.Equal(0, Rename(Path.Combine(_dir, "..data_tmp"), Path.Combine(_dir, "..data")));
        Directory.Delete(v1, recursive: true);

        Assert.True(await WaitFor(() => source.Current!.SerialNumber == second.Serial), "symlink swap not seen");
    }

    [Fact]
    public async Task PeriodicRecheckCatchesWhatTheWatcherMisses()
    {
        var first = NewCert();
        var v1 = Directory.CreateDirectory(Path.Combine(_dir, "v1")).FullName;
        WriteSet(v1, first.Chain, first.Key, _pki.RootPem);
        // Watch a directory whose files are symlinks into another directory: changes there raise no event here.
        var watched = Directory.CreateDirectory(Path.Combine(_dir, "watched")).FullName;
        foreach (var name in (string[])["cert-chain.pem", "key.pem", "root-cert.pem"])
            File.CreateSymbolicLink(Path.Combine(watched, name), Path.Combine(v1, name));
        using var source = FileCertificateSource.Start(Options(watched, TimeSpan.FromMilliseconds(300)));
        var second = NewCert();
        WriteSet(v1, second.Chain, second.Key, _pki.RootPem);
        Assert.True(await WaitFor(() => source.Current!.SerialNumber == second.Serial), "re-check did not reload");
    }

    [Theory]
    [InlineData("garbage-chain")]
    [InlineData("mismatched-key")]
    [InlineData("expired")]
    [InlineData("broken-root")]
    public async Task BadFilesAreRejectedAndTheOldCertificateKept(string kind)
    {
        var first = NewCert();
        WriteSet(_dir, first.Chain, first.Key, _pki.RootPem);
        using var source = FileCertificateSource.Start(Options(_dir));
        var other = NewCert();
        var now = DateTimeOffset.UtcNow;
        var (expiredChain, expiredKey, _) = _pki.Issue("spiffe://cluster.local/ns/a/sa/b", notBefore: now.AddDays(-2), notAfter: now.AddMinutes(-1));
        var expected = kind switch
        {
            "garbage-chain" => CertificateLoadError.ChainNotPem,
            "mismatched-key" => CertificateLoadError.KeyMismatch,
            "expired" => CertificateLoadError.Expired,
            _ => CertificateLoadError.RootInvalid,
        };
        switch (kind)
        {
            case "garbage-chain": WriteSet(_dir, "not a certificate", first.Key, _pki.RootPem); break;
            case "mismatched-key": WriteSet(_dir, other.Chain, first.Key, _pki.RootPem); break;
            case "expired": WriteSet(_dir, expiredChain, expiredKey, _pki.RootPem); break;
            default: WriteSet(_dir, first.Chain, first.Key, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"); break;
        }
        Assert.True(await WaitFor(() => source.Rejections == 1), "bad set not seen");
        Assert.Equal(expected, source.LastError);
        Assert.Equal(first.Serial, source.Current!.SerialNumber);

        // The same bad content seen again (another event, a re-check) is not counted or logged again.
        source.Reload();
        Assert.Equal(1, source.Rejections);

        // Good files after bad ones are picked up.
        WriteSet(_dir, other.Chain, other.Key, _pki.RootPem);
        Assert.True(await WaitFor(() => source.Current!.SerialNumber == other.Serial), "recovery not seen");
    }

    [Fact]
    public void EachOutageIsReportedOnceAndRecoveryClearsIt()
    {
        var first = NewCert();
        WriteSet(_dir, first.Chain, first.Key, _pki.RootPem);
        // A long debounce keeps watcher-driven reloads out of the way; Reload() is called by hand.
        using var source = FileCertificateSource.Start(Options(_dir) with { Debounce = TimeSpan.FromMinutes(10) });
        var key = Path.Combine(_dir, "key.pem");
        for (var outage = 1; outage <= 2; outage++)
        {
            File.Move(key, key + ".away");
            source.Reload();
            source.Reload();
            Assert.Equal(outage, source.Rejections); // once per outage, however often it is re-checked
            Assert.Equal(CertificateLoadError.FileUnreadable, source.LastError);
            Assert.Equal(first.Serial, source.Current!.SerialNumber);
            File.Move(key + ".away", key);
            source.Reload();
            Assert.Equal(CertificateLoadError.None, source.LastError);
        }
        Assert.Equal(1, source.Reloads); // the same files came back: nothing was rebuilt
    }

    [Fact]
    public async Task BurstsOfWritesCoalesceIntoOneReload()
    {
        var first = NewCert();
        WriteSet(_dir, first.Chain, first.Key, _pki.RootPem);
        // A 1 s quiet period rather than the default 100 ms: on a loaded 2-core machine fifteen file writes can take
        // longer than 100 ms, and the test is about coalescing, not about the default's length.
        using var source = FileCertificateSource.Start(Options(_dir) with { Debounce = TimeSpan.FromSeconds(1) });
        var sets = Enumerable.Range(0, 5).Select(_ => NewCert()).ToArray();
        var changed = 0;
        source.Changed += _ => Interlocked.Increment(ref changed);
        // Five complete rotations back to back (well inside the quiet period): only the last should be loaded.
        foreach (var set in sets) WriteSet(_dir, set.Chain, set.Key, _pki.RootPem);
        Assert.True(await WaitFor(() => source.Current!.SerialNumber == sets[^1].Serial), "final set not loaded");
        await Task.Delay(300);
        // Changed is raised just after Current is swapped: wait for it too (on a loaded machine the test can read between).
        await WaitFor(() => Volatile.Read(ref changed) >= 1);
        await Task.Delay(200); // a second, wrong event would arrive within this
        Assert.Equal(1, Volatile.Read(ref changed));
        Assert.Equal(0, source.Rejections); // no half-written set was ever parsed
    }

    [Fact]
    public async Task DebouncerRunsOnceAfterTheLastTrigger()
    {
        var runs = 0;
        using var debouncer = new Debouncer(TimeSpan.FromMilliseconds(100), () => Interlocked.Increment(ref runs));
        for (var i = 0; i < 50; i++) debouncer.Trigger();
        await Task.Delay(50);
        Assert.Equal(0, Volatile.Read(ref runs)); // still inside the quiet period
        Assert.True(await WaitFor(() => Volatile.Read(ref runs) == 1, 2000));
        await Task.Delay(250);
        Assert.Equal(1, Volatile.Read(ref runs));
        debouncer.Trigger();
        Assert.True(await WaitFor(() => Volatile.Read(ref runs) == 2, 2000));
    }

    /// <summary>rename(2): atomically replaces the ..data symlink, as the kubelet does (File.Move refuses directory links).</summary>
    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string oldPath, string newPath);
}
