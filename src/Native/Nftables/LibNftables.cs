using System.Runtime.InteropServices;

namespace Sidecar.Native.Nftables;

/// <summary>libnftables (Debian libnftables1) entry points; see libnftables(3). Versioned soname: no -dev package needed.</summary>
internal static partial class LibNftables
{
    private const string Library = "libnftables.so.1";

    /// <summary>NFT_CTX_DEFAULT.</summary>
    public const uint DefaultFlags = 0;

    [LibraryImport(Library)]
    public static partial nint nft_ctx_new(uint flags);

    [LibraryImport(Library)]
    public static partial void nft_ctx_free(nint ctx);

    [LibraryImport(Library)]
    public static partial int nft_ctx_buffer_output(nint ctx);

    [LibraryImport(Library)]
    public static partial int nft_ctx_buffer_error(nint ctx);

    [LibraryImport(Library)]
    public static partial nint nft_ctx_get_output_buffer(nint ctx);

    [LibraryImport(Library)]
    public static partial nint nft_ctx_get_error_buffer(nint ctx);

    /// <summary>Dry run: the batch is checked by the kernel and then aborted (NFT_CTX_DRY_RUN).</summary>
    [LibraryImport(Library)]
    public static partial void nft_ctx_set_dry_run(nint ctx, [MarshalAs(UnmanagedType.U1)] bool dry);

    /// <summary>Runs a whole script as one netlink batch: all of it is committed, or none of it.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nft_run_cmd_from_buffer(nint ctx, string buffer);
}
