using System.Buffers;
using System.Runtime.CompilerServices;
using Sidecar.Core.Hpack;
using Sidecar.Core.Http;

namespace Sidecar.Core.Http2;

/// <summary>What a decoded header block is expected to be; decides which pseudo-header fields are legal (RFC 9113 §8.3).</summary>
public enum Http2HeadKind : byte { Request, Response, Trailers }

/// <summary>
/// A decoded HTTP/2 header block kept as raw bytes in one pooled buffer, validated as it is decoded
/// (RFC 9113 §8.2 field rules, §8.3 pseudo-header rules). Reused for every block of a stream, so it
/// allocates only when a block is larger than any before it. Implements <see cref="IRequestView"/>
/// so routing reads it without copies.
/// </summary>
public sealed class Http2Head : IHpackHeaderSink, IRequestView, IDisposable
{
    private struct Field
    {
        public int NameStart, NameLength, ValueStart, ValueLength;
        public bool NeverIndexed;
        /// <summary>First static-table index with this name when the decoder knew it (see IHpackHeaderSink), else 0.</summary>
        public byte StaticName;
    }

    private byte[] _bytes = ArrayPool<byte>.Shared.Rent(1024);
    private int _used;
    private Field[] _fields = new Field[32];
    private int _count;
    private Field _method, _scheme, _authority, _path, _status, _protocol;
    private bool _sawRegular;
    private string? _error;

    public Http2HeadKind Kind { get; private set; }
    /// <summary>The first rule the block broke (a malformed message, §8.1.1), or null.</summary>
    public string? Error => _error;
    public int StatusCode { get; private set; }
    /// <summary>-1 when absent.</summary>
    public long ContentLength { get; private set; } = -1;
    public bool HasAuthority => _authority.NameLength != 0;
    public bool HasProtocol => _protocol.NameLength != 0;
    public bool IsConnect { get; private set; }
    public bool TeTrailers { get; private set; }
    public int HostIndex { get; private set; } = -1;
    public int RequestIdIndex { get; private set; } = -1;
    public int ForwardedForIndex { get; private set; } = -1;

    public ReadOnlySpan<byte> Method => Value(_method);
    public ReadOnlySpan<byte> Scheme => Value(_scheme);
    public ReadOnlySpan<byte> Path => Value(_path);
    public ReadOnlySpan<byte> Protocol => Value(_protocol);
    /// <summary>:authority, else Host (§8.3.1: a proxy uses :authority when both are present).</summary>
    public ReadOnlySpan<byte> Authority => HasAuthority ? Value(_authority) : HostIndex >= 0 ? GetHeaderValue(HostIndex) : default;
    public ReadOnlySpan<byte> PathAndQuery => Value(_path);
    public int HeaderCount => _count;
    public ReadOnlySpan<byte> GetHeaderName(int index) => _bytes.AsSpan(_fields[index].NameStart, _fields[index].NameLength);
    public ReadOnlySpan<byte> GetHeaderValue(int index) => _bytes.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);
    public bool IsNeverIndexed(int index) => _fields[index].NeverIndexed;
    /// <summary>The first static-table index (RFC 7541 Appendix A) with field <paramref name="index"/>'s name, when the decoder knew it; else 0 (unknown, not "absent").</summary>
    public int GetStaticNameIndex(int index) => _fields[index].StaticName;

    private ReadOnlySpan<byte> Value(in Field f) => f.NameLength == 0 ? default : _bytes.AsSpan(f.ValueStart, f.ValueLength);

    public void Reset(Http2HeadKind kind)
    {
        Kind = kind;
        _used = 0;
        _count = 0;
        _method = _scheme = _authority = _path = _status = _protocol = default;
        _sawRegular = false;
        _error = null;
        StatusCode = 0;
        ContentLength = -1;
        IsConnect = false;
        TeTrailers = false;
        HostIndex = RequestIdIndex = ForwardedForIndex = -1;
    }

    /// <summary>Bytes allowed in a regular field name: visible ASCII except upper case and ':' (RFC 9113 §8.2.1).</summary>
    private static readonly System.Buffers.SearchValues<byte> NameBytes = System.Buffers.SearchValues.Create(
        "!\"#$%&'()*+,-./0123456789;<=>?@[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    /// <summary>A field whose name the decoder did not get from the static table: the name is checked in full.</summary>
    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => OnHeader(name, value, neverIndexed, 0);

    /// <summary>Called by the HPACK decoder for each field, in order.</summary>
    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex)
    {
        if (_error is not null) return;
        if (name.IsEmpty)
        {
            _error = "empty field name";
            return;
        }
        // §8.2.1: values must not contain NUL, CR or LF, nor start or end with whitespace.
        if (value.IndexOfAny((byte)0, (byte)'\r', (byte)'\n') >= 0)
        {
            _error = "field value contains NUL, CR or LF";
            return;
        }
        if (!value.IsEmpty && (IsWhitespace(value[0]) || IsWhitespace(value[^1])))
        {
            _error = "field value has leading or trailing whitespace";
            return;
        }
        KnownName known;
        if (staticNameIndex != 0)
        {
            // A static-table name (RFC 7541 Appendix A) is a lower-case token or a defined pseudo-header: nothing to scan.
            known = FromStaticIndex(staticNameIndex);
        }
        else if (name[0] == (byte)':')
        {
            known = ClassifyPseudo(name);
        }
        else
        {
            // §8.2.1: names are lower case and contain no controls, space or non-ASCII (one vectorised scan).
            if (name.IndexOfAnyExcept(NameBytes) >= 0)
            {
                _error = "field name is not lower-case token characters";
                return;
            }
            known = Classify(name);
        }
        if (known >= KnownName.FirstPseudo)
        {
            OnPseudoHeader(known, name, value, neverIndexed, staticNameIndex);
            return;
        }
        _sawRegular = true;
        // §8.2.2: connection-specific fields make the message malformed; TE may only say "trailers".
        if (known == KnownName.ConnectionSpecific)
        {
            _error = "connection-specific header field";
            return;
        }
        if (known == KnownName.Te)
        {
            if (!System.Text.Ascii.EqualsIgnoreCase(value, "trailers"u8))
            {
                _error = "TE other than trailers";
                return;
            }
            TeTrailers = true;
        }
        if (Kind == Http2HeadKind.Trailers) { Add(name, value, neverIndexed, staticNameIndex); return; }
        if (known == KnownName.ContentLength)
        {
            if (!TryParseLength(value, out long length) || (ContentLength >= 0 && ContentLength != length))
            {
                _error = "invalid content-length";
                return;
            }
            ContentLength = length;
        }
        int index = _count;
        Add(name, value, neverIndexed, staticNameIndex);
        if (known == KnownName.Host) HostIndex = index;
        else if (known == KnownName.RequestId) RequestIdIndex = index;
        else if (known == KnownName.ForwardedFor) ForwardedForIndex = index;
    }

    /// <summary>The names a block's checks and indices care about; the pseudo-header fields (§8.3) last.</summary>
    private enum KnownName : byte
    {
        Other, ConnectionSpecific, Te, ContentLength, Host, RequestId, ForwardedFor,
        Method, Scheme, Authority, Path, Protocol, Status, UnknownPseudo,
        FirstPseudo = Method,
    }

    /// <summary>The static table's names (RFC 7541 Appendix A) that matter here, by index; the rest are Other.</summary>
    private static KnownName FromStaticIndex(int index) => index switch
    {
        1 => KnownName.Authority,
        2 or 3 => KnownName.Method,
        4 or 5 => KnownName.Path,
        6 or 7 => KnownName.Scheme,
        >= 8 and <= 14 => KnownName.Status,
        28 => KnownName.ContentLength,
        38 => KnownName.Host,
        57 => KnownName.ConnectionSpecific, // transfer-encoding
        _ => KnownName.Other,
    };

    /// <summary>
    /// One pass over the name's length picks the only candidate it can be, so a field costs one comparison (or none)
    /// instead of one per rule. Names are already known to be lower case here (§8.2.1).
    /// </summary>
    private static KnownName Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => name.SequenceEqual("te"u8) ? KnownName.Te : KnownName.Other,
        4 => name.SequenceEqual("host"u8) ? KnownName.Host : KnownName.Other,
        7 => name.SequenceEqual("upgrade"u8) ? KnownName.ConnectionSpecific : KnownName.Other,
        10 => name.SequenceEqual("connection"u8) || name.SequenceEqual("keep-alive"u8) ? KnownName.ConnectionSpecific : KnownName.Other,
        12 => name.SequenceEqual("x-request-id"u8) ? KnownName.RequestId : KnownName.Other,
        14 => name.SequenceEqual("content-length"u8) ? KnownName.ContentLength : KnownName.Other,
        15 => name.SequenceEqual("x-forwarded-for"u8) ? KnownName.ForwardedFor : KnownName.Other,
        16 => name.SequenceEqual("proxy-connection"u8) ? KnownName.ConnectionSpecific : KnownName.Other,
        17 => name.SequenceEqual("transfer-encoding"u8) ? KnownName.ConnectionSpecific : KnownName.Other,
        _ => KnownName.Other,
    };

    /// <summary>The pseudo-header fields of §8.3.1, §8.3.2 and RFC 8441 §4, told apart by length and one letter; exact bytes (HTTP/2 names are lower case).</summary>
    private static KnownName ClassifyPseudo(ReadOnlySpan<byte> name) => name.Length switch
    {
        5 => name.SequenceEqual(":path"u8) ? KnownName.Path : KnownName.UnknownPseudo,
        7 => name[1] switch
        {
            (byte)'m' => name.SequenceEqual(":method"u8) ? KnownName.Method : KnownName.UnknownPseudo,
            (byte)'s' => name.SequenceEqual(":scheme"u8) ? KnownName.Scheme : name.SequenceEqual(":status"u8) ? KnownName.Status : KnownName.UnknownPseudo,
            _ => KnownName.UnknownPseudo,
        },
        9 => name.SequenceEqual(":protocol"u8) ? KnownName.Protocol : KnownName.UnknownPseudo,
        10 => name.SequenceEqual(":authority"u8) ? KnownName.Authority : KnownName.UnknownPseudo,
        _ => KnownName.UnknownPseudo,
    };

    private void OnPseudoHeader(KnownName known, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex)
    {
        // §8.3: pseudo-header fields come first, appear once, exist only in requests or responses as defined, never in trailers.
        if (_sawRegular)
        {
            _error = "pseudo-header field after a regular field";
            return;
        }
        if (Kind == Http2HeadKind.Trailers)
        {
            _error = "pseudo-header field in trailers";
            return;
        }
        ref Field slot = ref Unsafe.NullRef<Field>();
        if (Kind == Http2HeadKind.Response)
        {
            if (known != KnownName.Status)
            {
                _error = "request pseudo-header in a response";
                return;
            }
            slot = ref _status;
        }
        else
        {
            switch (known)
            {
                case KnownName.Method: slot = ref _method; break;
                case KnownName.Scheme: slot = ref _scheme; break;
                case KnownName.Authority: slot = ref _authority; break;
                case KnownName.Path: slot = ref _path; break;
                case KnownName.Protocol: slot = ref _protocol; break;
                default:
                    _error = "unknown pseudo-header field";
                    return;
            }
        }
        if (slot.NameLength != 0)
        {
            _error = "duplicate pseudo-header field";
            return;
        }
        slot = Store(name, value, neverIndexed, staticNameIndex);
        if (Kind == Http2HeadKind.Response)
        {
            // §8.3.2: three digits (RFC 9110 §15), 1xx..5xx and beyond up to 999.
            if (value.Length != 3 || !IsDigit(value[0]) || !IsDigit(value[1]) || !IsDigit(value[2]) || value[0] == (byte)'0')
            {
                _error = "invalid :status";
                return;
            }
            StatusCode = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    /// <summary>
    /// The checks that need the whole block (§8.3.1 required pseudo-headers, RFC 8441 §4 extended CONNECT).
    /// Returns false with <see cref="Error"/> set when the message is malformed.
    /// </summary>
    public bool Complete(bool extendedConnectEnabled)
    {
        if (_error is not null) return false;
        if (Kind == Http2HeadKind.Response)
        {
            if (StatusCode == 0) _error = "missing :status";
            return _error is null;
        }
        if (Kind == Http2HeadKind.Trailers) return true;
        if (_method.NameLength == 0)
        {
            _error = "missing :method";
            return false;
        }
        IsConnect = Method.SequenceEqual("CONNECT"u8);
        if (HasProtocol)
        {
            // RFC 8441 §4: :protocol only on CONNECT, and only when we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL.
            if (!IsConnect || !extendedConnectEnabled) _error = ":protocol without extended CONNECT";
            else if (_scheme.NameLength == 0 || _path.NameLength == 0 || !HasAuthority) _error = "extended CONNECT lacks :scheme, :path or :authority";
            return _error is null;
        }
        if (IsConnect)
        {
            // §8.5: CONNECT carries :authority only.
            if (_scheme.NameLength != 0 || _path.NameLength != 0) _error = "CONNECT with :scheme or :path";
            else if (!HasAuthority) _error = "CONNECT without :authority";
            return _error is null;
        }
        if (_scheme.NameLength == 0) _error = "missing :scheme";
        else if (_path.NameLength == 0 || _path.ValueLength == 0) _error = "missing or empty :path";
        return _error is null;
    }

    private void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex)
    {
        if (_count == _fields.Length) Array.Resize(ref _fields, _fields.Length * 2);
        _fields[_count++] = Store(name, value, neverIndexed, staticNameIndex);
    }

    private Field Store(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex)
    {
        int start = _used;
        int need = start + name.Length + value.Length;
        if (need > _bytes.Length) Grow(need);
        Span<byte> target = _bytes.AsSpan(start, name.Length + value.Length);
        name.CopyTo(target);
        value.CopyTo(target[name.Length..]);
        _used = need;
        return new Field
        {
            NameStart = start,
            NameLength = name.Length,
            ValueStart = start + name.Length,
            ValueLength = value.Length,
            NeverIndexed = neverIndexed,
            StaticName = (byte)staticNameIndex,
        };
    }

    private void Grow(int need)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _bytes.Length * 2));
        _bytes.AsSpan(0, _used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = bigger;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t';

    private static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18) return false;
        foreach (byte b in value)
        {
            if (b < (byte)'0' || b > (byte)'9') return false;
            length = length * 10 + (b - '0');
        }
        return true;
    }

    public void Dispose()
    {
        byte[] b = _bytes;
        _bytes = [];
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }
}
