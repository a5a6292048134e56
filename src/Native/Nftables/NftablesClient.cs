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
        catch (DllNotFoundException ex)
        {
            failure = new NftResult(NftFailure.LibraryMissing, "", "libnftables.so.1 not found (install libnftables1 / nftables): " + ex.Message);
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
        int rc = LibNftables.nft_run_cmd_from_buffer(_ctx, script);

        // The getters return the text gathered since the last call and reset it.
        string output = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_output_buffer(_ctx)) ?? "";
        string error = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_error_buffer(_ctx)) ?? "";
        return rc == 0
            ? new NftResult(NftFailure.None, output, error)
            : new NftResult(NftFailure.CommandFailed, output, error.Length > 0 ? error.Trim() : $"nft_run_cmd_from_buffer returned {rc}");
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
