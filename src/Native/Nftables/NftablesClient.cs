using System.Runtime.InteropServices;

namespace Sidecar.Native.Nftables;

/// <summary>Why an nft operation did not happen.</summary>
public enum NftFailure
{
    None,

    /// <summary>libnftables.so.1 is not installed (apt-get install libnftables1).</summary>
    LibraryMissing,

    /// <summary>nft_ctx_new returned NULL.</summary>
    ContextUnavailable,

    /// <summary>The script was rejected (syntax, unknown name) or the kernel refused it (no nf_tables, no CAP_NET_ADMIN); nothing was changed.</summary>
    CommandFailed,
}

/// <summary>Outcome of one script: its output (for list commands) or the failure and libnftables' message.</summary>
public readonly record struct NftResult(NftFailure Failure, string Output, string Error)
{
    public bool Ok => Failure == NftFailure.None;
}

/// <summary>
/// One libnftables context with output and errors captured in memory. A script passed to
/// <see cref="Run"/> is one transaction. The netlink socket belongs to the network namespace of the
/// thread that made the context: create and use it inside <c>NetworkNamespace.Run</c> to target a pod.
/// </summary>
public sealed class NftablesClient : IDisposable
{
    private nint _ctx;

    private NftablesClient(nint ctx) => _ctx = ctx;

    /// <summary>Creates a context; <paramref name="failure"/> tells why not (missing library, NULL context).</summary>
    public static NftablesClient? TryCreate(out NftResult failure)
    {
        failure = default;
        nint ctx;
        try
        {
            ctx = LibNftables.nft_ctx_new(LibNftables.DefaultFlags);
        }
        catch (DllNotFoundException)
        {
            // The loader's message lists every path it probed; the package name is what helps.
            failure = new NftResult(NftFailure.LibraryMissing, "", "libnftables.so.1 could not be loaded (install the libnftables1 package)");
            return null;
        }
        catch (EntryPointNotFoundException ex)
        {
            failure = new NftResult(NftFailure.LibraryMissing, "", "libnftables.so.1 lacks an expected function: " + ex.Message);
            return null;
        }

        if (ctx == 0)
        {
            failure = new NftResult(NftFailure.ContextUnavailable, "", "nft_ctx_new failed");
            return null;
        }

        // Without buffering libnftables prints to our stdout/stderr; the text is wanted in the result instead.
        if (LibNftables.nft_ctx_buffer_output(ctx) != 0 || LibNftables.nft_ctx_buffer_error(ctx) != 0)
        {
            LibNftables.nft_ctx_free(ctx);
            failure = new NftResult(NftFailure.ContextUnavailable, "", "nft_ctx_buffer_output/error failed");
            return null;
        }

        return new NftablesClient(ctx);
    }

    /// <summary>Runs <paramref name="script"/> (nft -f syntax) as one atomic batch.</summary>
    public NftResult Run(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        ObjectDisposedException.ThrowIf(_ctx == 0, this);
        (int rc, string output, string error) = Execute(script);
        if (rc == 0)
        {
            return new NftResult(NftFailure.None, output, error);
        }

        // libnftables 1.0.6 points its caret at the wrong line for buffer input: keep the message,
        // and name the failing command found by dry runs instead.
        string message = error.Length > 0 ? error.Trim().Split('\n')[0] : $"nft_run_cmd_from_buffer returned {rc}";
        string? culprit = FindFailingCommand(script);
        return new NftResult(NftFailure.CommandFailed, output, culprit is null ? message : $"{message} (in: {culprit})");
    }

    private (int Rc, string Output, string Error) Execute(string script)
    {
        int rc = LibNftables.nft_run_cmd_from_buffer(_ctx, script);

        // The getters return the text gathered since the last call and reset it.
        string output = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_output_buffer(_ctx)) ?? "";
        string error = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_error_buffer(_ctx)) ?? "";
        return (rc, output, error);
    }

    /// <summary>Binary search over prefixes of the script, each checked as a dry run (nothing is committed).</summary>
    private string? FindFailingCommand(string script)
    {
        string[] lines = script.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        LibNftables.nft_ctx_set_dry_run(_ctx, true);
        try
        {
            if (Execute(script).Rc == 0)
            {
                return null;
            }

            int lo = 1, hi = lines.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (Execute(string.Join('\n', lines, 0, mid) + "\n").Rc != 0)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return lines[lo - 1];
        }
        finally
        {
            LibNftables.nft_ctx_set_dry_run(_ctx, false);
        }
    }

    public void Dispose()
    {
        if (_ctx != 0)
        {
            LibNftables.nft_ctx_free(_ctx);
            _ctx = 0;
        }
    }
}
