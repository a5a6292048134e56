using System.Text;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Proxy;

/// <summary>Route/virtual-host/route-config header mutations, the same for every protocol.</summary>
internal static class HeaderMutations
{
    /// <summary>True when a received field must not be forwarded: removed, or replaced by an OVERWRITE add.</summary>
    public static bool IsRemovedOrOverwritten(ReadOnlySpan<byte> name, HeaderMutationModel a, HeaderMutationModel b, HeaderMutationModel c)
        => Matches(name, a) || Matches(name, b) || Matches(name, c);

    private static bool Matches(ReadOnlySpan<byte> name, HeaderMutationModel m)
    {
        if (m.IsEmpty) return false;
        foreach (string r in m.Remove)
        {
            if (Ascii.EqualsIgnoreCase(name, r)) return true;
        }
        foreach (HeaderValueOptionModel add in m.Add)
        {
            if (add.Action == HeaderAppendAction.OverwriteIfExistsOrAdd && Ascii.EqualsIgnoreCase(name, add.Name)) return true;
        }
        return false;
    }
}

/// <summary>x-request-id values.</summary>
internal static class RequestIds
{
    /// <summary>
    /// A UUID v4 (36 characters) from a fast non-cryptographic generator, as Envoy's request-id extension
    /// uses: Guid.NewGuid() reads the kernel's random source, one syscall per request (seen in strace).
    /// </summary>
    public static void Write(Span<byte> destination36)
    {
        Span<byte> random = stackalloc byte[16];
        Random.Shared.NextBytes(random);
        random[7] = (byte)((random[7] & 0x0F) | 0x40);   // version 4 (Guid's byte order: the high byte of field 3)
        random[8] = (byte)((random[8] & 0x3F) | 0x80);   // RFC 4122 variant
        new Guid(random).TryFormat(destination36, out _, "D");
    }
}
