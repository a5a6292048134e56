using System.Text;
using Sidecar.Core.Http;

namespace Sidecar.Core.Tests.Support;

/// <summary>
/// An <see cref="IRequestView"/> over a parsed HTTP/1 request head given as a string. A struct, so
/// tests exercise the same constrained (non-boxing) generic path the codecs use.
/// </summary>
public readonly struct TestRequest : IRequestView
{
    private readonly byte[] _authority;
    private readonly byte[] _pathAndQuery;
    private readonly byte[] _method;
    private readonly byte[][] _names;
    private readonly byte[][] _values;

    private TestRequest(byte[] method, byte[] pathAndQuery, byte[] authority, byte[][] names, byte[][] values)
    {
        _method = method;
        _pathAndQuery = pathAndQuery;
        _authority = authority;
        _names = names;
        _values = values;
    }

    /// <summary>Parses "METHOD target HTTP/1.1\r\nName: value\r\n..." (lines may also end in "\n").</summary>
    public static TestRequest Parse(string head)
    {
        string[] lines = head.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] requestLine = lines[0].Split(' ');
        var names = new List<byte[]>();
        var values = new List<byte[]>();
        byte[] authority = [];
        for (int i = 1; i < lines.Length; i++)
        {
            int colon = lines[i].IndexOf(':');
            string name = lines[i][..colon];
            string value = lines[i][(colon + 1)..].Trim();
            names.Add(Encoding.Latin1.GetBytes(name));
            values.Add(Encoding.Latin1.GetBytes(value));
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                authority = Encoding.Latin1.GetBytes(value);
            }
        }

        return new TestRequest(
            Encoding.Latin1.GetBytes(requestLine[0]),
            Encoding.Latin1.GetBytes(requestLine[1]),
            authority,
            [.. names],
            [.. values]);
    }

    /// <summary>Shorthand: <c>Get("foo.com", "/a?b=1", "x-a: 1", "x-b: 2")</c>.</summary>
    public static TestRequest Get(string host, string pathAndQuery, params string[] headers) =>
        Create("GET", host, pathAndQuery, headers);

    public static TestRequest Create(string method, string host, string pathAndQuery, params string[] headers)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(pathAndQuery).Append(" HTTP/1.1\r\nHost: ").Append(host).Append("\r\n");
        foreach (string header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        return Parse(head.ToString());
    }

    public ReadOnlySpan<byte> Authority => _authority;
    public ReadOnlySpan<byte> PathAndQuery => _pathAndQuery;
    public ReadOnlySpan<byte> Method => _method;
    public int HeaderCount => _names.Length;
    public ReadOnlySpan<byte> GetHeaderName(int index) => _names[index];
    public ReadOnlySpan<byte> GetHeaderValue(int index) => _values[index];
}
