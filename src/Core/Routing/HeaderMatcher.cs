using System.Buffers;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;

namespace Sidecar.Core.Routing;

/// <summary>
/// Envoy <c>config.route.v3.HeaderMatcher</c> over an <see cref="IRequestView"/>, with Envoy's
/// semantics (HeaderUtility::matchHeaders): several fields with the same name are evaluated as one
/// value joined by ","; a missing header fails every matcher except present_match:false (and the
/// inverted present matcher) unless treat_missing_header_as_empty is set.
/// </summary>
internal sealed class HeaderMatcher
{
    private const int StackJoinBytes = 512;

    private enum Source : byte { Header, Method, Authority, Path }

    private readonly byte[] _name;
    private readonly Source _source;
    private readonly ByteStringMatcher? _matcher;
    /// <summary>Present-type matcher: the expected presence (Envoy <c>present_match</c>).</summary>
    private readonly bool _present;
    private readonly bool _invert;
    private readonly bool _treatMissingAsEmpty;

    public HeaderMatcher(HeaderMatcherModel model)
    {
        string name = model.Name.ToLowerInvariant();
        _name = AsciiSpan.Utf8(name);
        _source = name switch
        {
            ":method" => Source.Method,
            ":authority" => Source.Authority,
            ":path" => Source.Path,
            _ => Source.Header,
        };
        _invert = model.InvertMatch;
        _treatMissingAsEmpty = model.TreatMissingAsEmpty;
        if (model.Matcher is null)
        {
            // The model encodes "present" as a null matcher; PresentMatch=false means "must be absent".
            _present = model.PresentMatch;
        }
        else if (model.Matcher.Kind == StringMatchKind.Present)
        {
            _present = true;
        }
        else
        {
            _matcher = new ByteStringMatcher(model.Matcher);
        }
    }

    public bool Matches<TRequest>(ref TRequest request)
        where TRequest : IRequestView, allows ref struct
    {
        switch (_source)
        {
            case Source.Method:
                return Evaluate(request.Method);
            case Source.Authority:
                return Evaluate(request.Authority);
            case Source.Path:
                return Evaluate(request.PathAndQuery);
        }

        int count = request.HeaderCount;
        int first = -1;
        int occurrences = 0;
        int joinedLength = 0;
        for (int i = 0; i < count; i++)
        {
            if (AsciiSpan.EqualsIgnoreCase(request.GetHeaderName(i), _name))
            {
                if (first < 0)
                {
                    first = i;
                }

                occurrences++;
                joinedLength += request.GetHeaderValue(i).Length;
            }
        }

        if (occurrences == 0)
        {
            return EvaluateMissing();
        }

        if (occurrences == 1)
        {
            return Evaluate(request.GetHeaderValue(first));
        }

        // Rare: repeated field. Join exactly as Envoy does ("a,b") into a stack or pooled buffer.
        joinedLength += occurrences - 1;
        byte[]? rented = null;
        Span<byte> joined = joinedLength <= StackJoinBytes
            ? stackalloc byte[StackJoinBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(joinedLength));
        try
        {
            int written = 0;
            for (int i = first; i < count; i++)
            {
                if (!AsciiSpan.EqualsIgnoreCase(request.GetHeaderName(i), _name))
                {
                    continue;
                }

                if (written > 0)
                {
                    joined[written++] = (byte)',';
                }

                ReadOnlySpan<byte> value = request.GetHeaderValue(i);
                value.CopyTo(joined[written..]);
                written += value.Length;
            }

            return Evaluate(joined[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private bool EvaluateMissing()
    {
        if (_treatMissingAsEmpty)
        {
            return Evaluate([]);
        }

        if (_matcher is not null)
        {
            return false;
        }

        return _invert ? _present : !_present;
    }

    private bool Evaluate(ReadOnlySpan<byte> value)
    {
        bool result = _matcher is null ? _present : _matcher.Matches(value);
        return result != _invert;
    }
}
