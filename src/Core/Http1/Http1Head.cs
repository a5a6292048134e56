using System.Buffers;
using System.Runtime.CompilerServices;
using Sidecar.Core.Http;

namespace Sidecar.Core.Http1;

public enum Http1Version : byte { Http10, Http11 }

/// <summary>How the body after a head is delimited (RFC 9112 §6.3).</summary>
public enum BodyFraming : byte { None, ContentLength, Chunked, UntilClose }

/// <summary>Headers whose meaning the proxy needs; everything else is <see cref="Other"/> and forwarded as bytes.</summary>
public enum KnownHeader : byte
{
    Other,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyConnection,
    TE,
    Trailer,
    Upgrade,
    Expect,
    XForwardedFor,
    XForwardedProto,
    XRequestId,
    XEnvoyInternal,
}

internal struct HeaderField
{
    public int NameStart;
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
    public KnownHeader Known;
}

/// <summary>
/// One request or response head, kept as the raw bytes of its lines in a pooled buffer with
/// offsets for the start line and each field. Reused for every message on a connection
/// (<see cref="Reset"/>), so parsing a head allocates nothing in steady state.
/// </summary>
public sealed class Http1Head : IRequestView, IDisposable
{
    private const int InitialBufferSize = 2048;

    private byte[] _buffer;
    private int _length;
    private HeaderField[] _fields;
    private int _count;

    // Start line, as offsets into _buffer.
    internal int MethodLength;
    internal int TargetStart;
    internal int TargetLength;
    internal int ReasonStart;
    internal int ReasonLength;

    // Parser progress, so a head split across reads resumes at the next line.
    internal Http1HeadParser.Stage ParseStage;
    internal int HeadBytes;
    internal int LeadingEmptyLines;

    public Http1Head()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        _fields = new HeaderField[32];
        // A fresh head must look like a reset one: ContentLength/HostIndex use -1 for "absent",
        // and a default of 0 made the first Content-Length look like a duplicate.
        Reset();
    }

    public Http1Version Version { get; internal set; }
    public KnownMethod KnownMethod { get; internal set; }
    public int StatusCode { get; internal set; }
    /// <summary>-1 when absent.</summary>
    public long ContentLength { get; internal set; }
    public bool HasTransferEncoding { get; internal set; }
    public bool Chunked { get; internal set; }
    public bool ConnectionClose { get; internal set; }
    public bool ConnectionKeepAlive { get; internal set; }
    public bool ConnectionUpgrade { get; internal set; }
    /// <summary>Connection names other headers (which are then hop-by-hop, RFC 9110 §7.6.1).</summary>
    public bool ConnectionNamesOthers { get; internal set; }
    public bool ExpectContinue { get; internal set; }
    public bool TeTrailers { get; internal set; }
    public int HostIndex { get; internal set; }
    public int UpgradeIndex { get; internal set; }
    public int RequestIdIndex { get; internal set; }
    public int ForwardedForIndex { get; internal set; }
    public BodyFraming Framing { get; internal set; }

    public int HeaderCount => _count;
    public ReadOnlySpan<byte> Method => _buffer.AsSpan(0, MethodLength);
    public ReadOnlySpan<byte> Target => _buffer.AsSpan(TargetStart, TargetLength);
    public ReadOnlySpan<byte> Reason => _buffer.AsSpan(ReasonStart, ReasonLength);
    public ReadOnlySpan<byte> PathAndQuery => OriginFormPath(Target);
    public ReadOnlySpan<byte> Authority => HostIndex >= 0 ? GetHeaderValue(HostIndex) : AbsoluteFormAuthority(Target);
    public bool IsHead => KnownMethod == KnownMethod.Head;
    public bool IsConnect => KnownMethod == KnownMethod.Connect;
    public bool IsUpgradeRequest => ConnectionUpgrade && UpgradeIndex >= 0;

    /// <summary>Keep-alive after this message, per RFC 9112 §9.3.</summary>
    public bool KeepAlive => Version == Http1Version.Http11 ? !ConnectionClose : ConnectionKeepAlive && !ConnectionClose;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetHeaderName(int index)
    {
        ref readonly HeaderField f = ref _fields[index];
        return _buffer.AsSpan(f.NameStart, f.NameLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetHeaderValue(int index)
    {
        ref readonly HeaderField f = ref _fields[index];
        return _buffer.AsSpan(f.ValueStart, f.ValueLength);
    }

    public KnownHeader GetKnownHeader(int index) => _fields[index].Known;

    /// <summary>The whole field line "Name: value" (without CRLF) as received, for forwarding.</summary>
    public ReadOnlySpan<byte> GetHeaderLine(int index)
    {
        ref readonly HeaderField f = ref _fields[index];
        return _buffer.AsSpan(f.NameStart, f.ValueStart + f.ValueLength - f.NameStart);
    }

    /// <summary>Finds the first field with this lower-case name; -1 when absent.</summary>
    public int IndexOf(ReadOnlySpan<byte> lowerName)
    {
        for (int i = 0; i < _count; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(GetHeaderName(i), lowerName)) return i;
        }
        return -1;
    }

    public void Reset()
    {
        _length = 0;
        _count = 0;
        MethodLength = TargetStart = TargetLength = ReasonStart = ReasonLength = 0;
        ParseStage = Http1HeadParser.Stage.StartLine;
        HeadBytes = 0;
        LeadingEmptyLines = 0;
        Version = Http1Version.Http11;
        KnownMethod = KnownMethod.Unknown;
        StatusCode = 0;
        ContentLength = -1;
        HasTransferEncoding = Chunked = ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = false;
        ConnectionNamesOthers = ExpectContinue = TeTrailers = false;
        HostIndex = UpgradeIndex = RequestIdIndex = ForwardedForIndex = -1;
        Framing = BodyFraming.None;
    }

    /// <summary>Appends one received line (without its LF) and returns its start offset.</summary>
    internal int AppendLine(ReadOnlySpan<byte> line)
    {
        EnsureCapacity(_length + line.Length);
        int start = _length;
        line.CopyTo(_buffer.AsSpan(start));
        _length += line.Length;
        return start;
    }

    /// <summary>The same for a line that spans segments of the receive buffer.</summary>
    internal int AppendLine(in ReadOnlySequence<byte> line)
    {
        int len = (int)line.Length;
        EnsureCapacity(_length + len);
        int start = _length;
        line.CopyTo(_buffer.AsSpan(start));
        _length += len;
        return start;
    }

    /// <summary>Forgets bytes appended from <paramref name="start"/> on (an ignored empty line before the start line).</summary>
    internal void Truncate(int start) => _length = start;

    internal ReadOnlySpan<byte> Slice(int start, int length) => _buffer.AsSpan(start, length);

    internal bool TryAddField(int nameStart, int nameLength, int valueStart, int valueLength, KnownHeader known, int maxCount)
    {
        if (_count >= maxCount) return false;
        if (_count == _fields.Length) Array.Resize(ref _fields, _fields.Length * 2);
        _fields[_count++] = new HeaderField
        {
            NameStart = nameStart, NameLength = nameLength, ValueStart = valueStart, ValueLength = valueLength, Known = known,
        };
        return true;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length) return;
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        byte[] b = _buffer;
        _buffer = [];
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }

    /// <summary>RFC 9112 §3.2.2: absolute-form "http://host/path" → "/path"; origin-form as is.</summary>
    private static ReadOnlySpan<byte> OriginFormPath(ReadOnlySpan<byte> target)
    {
        if (target.Length > 0 && target[0] == (byte)'/') return target;
        int scheme = target.IndexOf("://"u8);
        if (scheme < 0) return target;
        ReadOnlySpan<byte> rest = target[(scheme + 3)..];
        int slash = rest.IndexOfAny((byte)'/', (byte)'?');
        if (slash < 0) return "/"u8;
        return rest[slash..];
    }

    private static ReadOnlySpan<byte> AbsoluteFormAuthority(ReadOnlySpan<byte> target)
    {
        int scheme = target.IndexOf("://"u8);
        if (scheme < 0) return target.Length > 0 && target[0] != (byte)'/' ? target : default;
        ReadOnlySpan<byte> rest = target[(scheme + 3)..];
        int end = rest.IndexOfAny((byte)'/', (byte)'?');
        return end < 0 ? rest : rest[..end];
    }
}
