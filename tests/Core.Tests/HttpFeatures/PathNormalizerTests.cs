using System.Text;
using Sidecar.Core.Http;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>Envoy's normalize_path / merge_slashes / path_with_escaped_slashes_action, rule by rule.</summary>
public sealed class PathNormalizerTests
{
    private static readonly PathNormalization Base = new(NormalizePath: true, MergeSlashes: false, EscapedSlashesAction.KeepUnchanged);

    private static (PathNormalizeResult Result, string Path) Run(string input, PathNormalization options)
    {
        byte[]? scratch = null;
        PathNormalizeResult r = PathNormalizer.Normalize(Encoding.Latin1.GetBytes(input), options, ref scratch, out int length);
        string path = r is PathNormalizeResult.Rewritten or PathNormalizeResult.Redirect ? Encoding.Latin1.GetString(scratch!, 0, length) : input;
        if (scratch is not null) System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        return (r, path);
    }

    // RFC 3986 §5.2.4 remove_dot_segments, §6.2.2.2 percent-decoding of unreserved characters, and Envoy's legacy
    // canonicalizer's own rules (backslash as slash, escapes of reserved characters kept as sent, clamping at the root).
    [Theory]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/b/./c", "/a/b/c")]
    [InlineData("a/b/../c", "/a/c")]
    [InlineData("/a/b/../../../../c", "/c")]
    [InlineData("/../a/b", "/a/b")]
    [InlineData("/./a/b", "/a/b")]
    [InlineData("..", "/")]
    [InlineData("/a/..", "/")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/b/.", "/a/b/")]
    [InlineData("/a/..\\c", "/c")]
    [InlineData("/a\\b", "/a/b")]
    [InlineData("/a/b/%2E%2E/c", "/a/c")]
    [InlineData("/a/b/%2e%2e/c", "/a/c")]
    [InlineData("/a/b/%2E./c", "/a/c")]
    [InlineData("/a/b/%2E/c", "/a/b/c")]
    [InlineData("/%c0%af", "/%c0%af")]
    [InlineData("/%5c%25", "/%5c%25")]
    [InlineData("/a/%2F%2f/c", "/a/%2F%2f/c")]
    [InlineData("/A/B/C", "/A/B/C")]
    [InlineData("/%41%62%7E%2D%5f", "/Ab~-_")]
    [InlineData("/a/.b/c.", "/a/.b/c.")]
    [InlineData("/a b", "/a%20b")]
    [InlineData("/a\"<>`{|}^", "/a%22%3C%3E%60%7B%7C%7D%5E")]
    [InlineData("/caf\u00e9", "/caf%E9")] // bytes above 0x7F are percent-encoded
    [InlineData("/a/../b?x=/../y", "/b?x=/../y")]
    [InlineData("/a//b", "/a//b")]
    [InlineData("/bad%zz/x", "/bad%zz/x")]
    [InlineData("/%%30%30", "/%2500")] // decoding must not create a new escape ("%00"): the bare '%' becomes %25
    public void NormalizePathFollowsEnvoysCanonicalizer(string input, string expected)
    {
        (PathNormalizeResult r, string path) = Run(input, Base);
        Assert.Equal(expected, path);
        Assert.Equal(input == expected ? PathNormalizeResult.Unchanged : PathNormalizeResult.Rewritten, r);
    }

    [Theory]
    [InlineData("/xyz/.%00../abc")]
    [InlineData("/xyz/%00.%00./abc")]
    [InlineData("/xyz/AAAAA%%0000/abc")]
    [InlineData("/a\0b")]
    [InlineData("/a#frag")]
    public void InvalidPathsAreRejected(string input)
    {
        Assert.Equal(PathNormalizeResult.Reject, Run(input, Base).Result);
    }

    [Theory]
    [InlineData("a//b/c", "a/b/c")]
    [InlineData("/a//b/c/", "/a/b/c/")]
    [InlineData("//a/b/c", "/a/b/c")]
    [InlineData("/a/b/c//", "/a/b/c/")]
    [InlineData("/a////b/c", "/a/b/c")]
    [InlineData("/a//b?a=///c", "/a/b?a=///c")]
    [InlineData("/a//b?", "/a/b?")]
    [InlineData("//a/?b", "/a/?b")]
    [InlineData("/a", "/a")]
    public void MergeSlashesLeavesTheQueryAlone(string input, string expected)
    {
        Assert.Equal(expected, Run(input, new PathNormalization(false, MergeSlashes: true, EscapedSlashesAction.KeepUnchanged)).Path);
    }

    [Fact]
    public void MergeSlashesRunsAfterNormalization()
    {
        var both = new PathNormalization(NormalizePath: true, MergeSlashes: true, EscapedSlashesAction.KeepUnchanged);
        Assert.Equal("/b/c", Run("//a/..//b//c", both).Path);
        Assert.Equal("/x", Run("/\\x", both).Path);
    }

    [Theory]
    [InlineData(EscapedSlashesAction.KeepUnchanged, "/a%2Fb%5cc", PathNormalizeResult.Unchanged, "/a%2Fb%5cc")]
    [InlineData(EscapedSlashesAction.RejectRequest, "/a%2Fb", PathNormalizeResult.Reject, "/a%2Fb")]
    [InlineData(EscapedSlashesAction.RejectRequest, "/a%5Cb", PathNormalizeResult.Reject, "/a%5Cb")]
    [InlineData(EscapedSlashesAction.RejectRequest, "/a%41b", PathNormalizeResult.Rewritten, "/aAb")]
    [InlineData(EscapedSlashesAction.UnescapeAndRedirect, "/a%2fb?q=%2F", PathNormalizeResult.Redirect, "/a/b?q=%2F")]
    [InlineData(EscapedSlashesAction.UnescapeAndRedirect, "/a/b", PathNormalizeResult.Unchanged, "/a/b")]
    [InlineData(EscapedSlashesAction.UnescapeAndForward, "/a%2Fb", PathNormalizeResult.Rewritten, "/a/b")]
    [InlineData(EscapedSlashesAction.UnescapeAndForward, "/a%5Cb", PathNormalizeResult.Rewritten, "/a/b")] // '\' then read as '/'
    [InlineData(EscapedSlashesAction.UnescapeAndForward, "/a/%2E%2E%2Fb", PathNormalizeResult.Rewritten, "/b")]
    public void EscapedSlashesActions(EscapedSlashesAction action, string input, PathNormalizeResult expected, string path)
    {
        (PathNormalizeResult r, string p) = Run(input, Base with { EscapedSlashes = action });
        Assert.Equal(expected, r);
        Assert.Equal(path, p);
    }

    [Fact]
    public void EscapedSlashesWithoutNormalizeKeepTheBackslash()
    {
        var forward = new PathNormalization(false, false, EscapedSlashesAction.UnescapeAndForward);
        Assert.Equal("/a\\b/c", Run("/a%5Cb%2fc", forward).Path);
    }

    [Fact]
    public void NothingConfiguredTouchesNothing()
    {
        Assert.Equal(PathNormalizeResult.Unchanged, Run("/a/../b//%2F", PathNormalization.None).Result);
    }

    [Fact]
    public void AlreadyNormalPathsAllocateNothing()
    {
        var all = new PathNormalization(true, true, EscapedSlashesAction.UnescapeAndRedirect);
        byte[] path = "/api/v1/items/42?sort=name&x=/../y"u8.ToArray();
        byte[]? scratch = null;
        PathNormalizer.Normalize(path, all, ref scratch, out _);
        int unchanged = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            if (PathNormalizer.Normalize(path, all, ref scratch, out _) == PathNormalizeResult.Unchanged) unchanged++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, unchanged);
        Assert.Equal(0, allocated);
        Assert.Null(scratch);
    }

    [Fact]
    public void RewritesReuseThePooledScratch()
    {
        byte[]? scratch = null;
        byte[] path = "/a/./b/../c"u8.ToArray();
        PathNormalizer.Normalize(path, Base, ref scratch, out _);
        byte[]? first = scratch;
        int rewritten = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            if (PathNormalizer.Normalize(path, Base, ref scratch, out int n) == PathNormalizeResult.Rewritten && n == 4) rewritten++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, rewritten);
        Assert.Equal(0, allocated);
        Assert.Equal("/a/c", Encoding.ASCII.GetString(scratch!, 0, 4));
        Assert.Same(first, scratch);
        System.Buffers.ArrayPool<byte>.Shared.Return(scratch!);
    }
}
