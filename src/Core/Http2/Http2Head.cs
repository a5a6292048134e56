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

    /// <summary>Called by the HPACK decoder for each field, in order.</summary>
    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
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
        if (name[0] == (byte)':')
        {
            OnPseudoHeader(name, value, neverIndexed);
            return;
        }
        // §8.2.1: names are lower case and contain no controls, space or non-ASCII (one vectorised scan).
        if (name.IndexOfAnyExcept(NameBytes) >= 0)
        {
            _error = "field name is not lower-case token characters";
            return;
        }
        _sawRegular = true;
        RegularName known = Classify(name);
        // §8.2.2: connection-specific fields make the message malformed; TE may only say "trailers".
        if (known == RegularName.ConnectionSpecific)
        {
            _error = "connection-specific header field";
            return;
        }
        if (known == RegularName.Te)
        {
            if (!System.Text.Ascii.EqualsIgnoreCase(value, "trailers"u8))
            {
                _error = "TE other than trailers";
                return;
            }
            TeTrailers = true;
        }
        if (Kind == Http2HeadKind.Trailers) { Add(name, value, neverIndexed); return; }
        if (known == RegularName.ContentLength)
        {
            if (!TryParseLength(value, out long length) || (ContentLength >= 0 && ContentLength != length))
            {
                _error = "invalid content-length";
                return;
            }
            ContentLength = length;
        }
        int index = _count;
        Add(name, value, neverIndexed);
        if (known == RegularName.Host) HostIndex = index;
        else if (known == RegularName.RequestId) RequestIdIndex = index;
        else if (known == RegularName.ForwardedFor) ForwardedForIndex = index;
    }

    /// <summary>The regular names a block's checks and indices care about.</summary>
    private enum RegularName : byte { Other, ConnectionSpecific, Te, ContentLength, Host, RequestId, ForwardedFor }

    /// <summary>
    /// One pass over the name's length picks the only candidate it can be, so a field costs one comparison (or none)
    /// instead of one per rule. Names are already known to be lower case here (§8.2.1).
    /// </summary>
    private static RegularName Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => name.SequenceEqual("te"u8) ? RegularName.Te : RegularName.Other,
        4 => name.SequenceEqual("host"u8) ? RegularName.Host : RegularName.Other,
        7 => name.SequenceEqual("upgrade"u8) ? RegularName.ConnectionSpecific : RegularName.Other,
        10 => name.SequenceEqual("connection"u8) || name.SequenceEqual("keep-alive"u8) ? RegularName.ConnectionSpecific : RegularName.Other,
        12 => name.SequenceEqual("x-request-id"u8) ? RegularName.RequestId : RegularName.Other,
        14 => name.SequenceEqual("content-length"u8) ? RegularName.ContentLength : RegularName.Other,
        15 => name.SequenceEqual("x-forwarded-for"u8) ? RegularName.ForwardedFor : RegularName.Other,
        16 => name.SequenceEqual("proxy-connection"u8) ? RegularName.ConnectionSpecific : RegularName.Other,
        17 => name.SequenceEqual("transfer-encoding"u8) ? RegularName.ConnectionSpecific : RegularName.Other,
        _ => RegularName.Other,
    };

    private void OnPseudoHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
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
            if (!name.SequenceEqual(":status"u8))
            {
                _error = "request pseudo-header in a response";
                return;
            }
            slot = ref _status;
        }
        else if (name.SequenceEqual(":method"u8)) slot = ref _method;
        else if (name.SequenceEqual(":scheme"u8)) slot = ref _scheme;
        else if (name.SequenceEqual(":authority"u8)) slot = ref _authority;
        else if (name.SequenceEqual(":path"u8)) slot = ref _path;
        else if (name.SequenceEqual(":protocol"u8)) slot = ref _protocol;
        else
        {
            _error = "unknown pseudo-header field";
            return;
        }
        if (slot.NameLength != 0)
        {
            _error = "duplicate pseudo-header field";
            return;
        }
        slot = Store(name, value, neverIndexed);
        if (Kind == Http2HeadKind.Response)
        {
            if (value.Length != 3 || !int.TryParse(value, out int status) || status < 100)
            {
                _error = "invalid :status";
                return;
            }
            StatusCode = status;
        }
    }

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

    private void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        if (_count == _fields.Length) Array.Resize(ref _fields, _fields.Length * 2);
        _fields[_count++] = Store(name, value, neverIndexed);
    }

    private Field Store(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        int need = _used + name.Length + value.Length;
        if (need > _bytes.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _bytes.Length * 2));
            _bytes.AsSpan(0, _used).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = bigger;
        }
        var f = new Field { NameStart = _used, NameLength = name.Length, NeverIndexed = neverIndexed };
        name.CopyTo(_bytes.AsSpan(_used));
        _used += name.Length;
        f.ValueStart = _used;
        f.ValueLength = value.Length;
        value.CopyTo(_bytes.AsSpan(_used));
        _used += value.Length;
        return f;
    }

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
