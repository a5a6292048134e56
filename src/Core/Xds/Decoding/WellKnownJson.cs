using System.Globalization;
using System.Text;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>
/// The proto3 JSON spellings of Duration, Timestamp and floating-point values (protobuf.dev "JSON Mapping"),
/// in both directions. Durations and timestamps print 0, 3, 6 or 9 fractional digits, as the reference
/// printers (and therefore Envoy's config dumps) do.
/// </summary>
internal static class WellKnownJson
{
    /// <summary>Duration range: ±315,576,000,000 s (10,000 years), nanos with the sign of seconds.</summary>
    public const long MaxDurationSeconds = 315_576_000_000L;

    /// <summary>Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.</summary>
    public const long MinTimestampSeconds = -62_135_596_800L;
    public const long MaxTimestampSeconds = 253_402_300_799L;

    public static bool TryFormatDuration(long seconds, int nanos, out string text)
    {
        text = "";
        if (seconds is < -MaxDurationSeconds or > MaxDurationSeconds || nanos is <= -1_000_000_000 or >= 1_000_000_000 ||
            (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0))
        {
            return false;
        }
        StringBuilder sb = new(24);
        if (seconds < 0 || nanos < 0)
        {
            sb.Append('-');
        }
        sb.Append(Math.Abs(seconds).ToString(CultureInfo.InvariantCulture));
        AppendFraction(sb, Math.Abs(nanos));
        text = sb.Append('s').ToString();
        return true;
    }

    public static bool TryFormatTimestamp(long seconds, int nanos, out string text)
    {
        text = "";
        if (seconds is < MinTimestampSeconds or > MaxTimestampSeconds || nanos is < 0 or >= 1_000_000_000)
        {
            return false;
        }
        DateTime t = DateTime.UnixEpoch.AddSeconds(seconds);
        StringBuilder sb = new(32);
        sb.Append(t.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture));
        AppendFraction(sb, nanos);
        text = sb.Append('Z').ToString();
        return true;
    }

    /// <summary>"1.5s", "-0.000000001s", "3s" to seconds and nanos (same sign).</summary>
    public static bool TryParseDuration(string text, out long seconds, out int nanos)
    {
        seconds = 0;
        nanos = 0;
        if (text.Length < 2 || text[^1] != 's')
        {
            return false;
        }
        ReadOnlySpan<char> body = text.AsSpan(0, text.Length - 1);
        bool negative = body[0] == '-';
        if (negative)
        {
            body = body[1..];
        }
        if (!TrySplitSecondsAndNanos(body, out seconds, out nanos) || seconds > MaxDurationSeconds)
        {
            return false;
        }
        if (negative)
        {
            seconds = -seconds;
            nanos = -nanos;
        }
        return true;
    }

    /// <summary>RFC 3339 "1972-01-01T10:00:20.021Z" or with a "+hh:mm"/"-hh:mm" offset (protobuf.dev Timestamp JSON).</summary>
    public static bool TryParseTimestamp(string text, out long seconds, out int nanos)
    {
        seconds = 0;
        nanos = 0;
        if (text.Length < 20 || text[10] != 'T')
        {
            return false;
        }
        if (!DateTime.TryParseExact(text.AsSpan(0, 19), "yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime whole))
        {
            return false;
        }
        int i = 19;
        if (text[i] == '.')
        {
            int start = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
            if (i == start || i - start > 9)
            {
                return false;
            }
            nanos = int.Parse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            for (int d = i - start; d < 9; d++)
            {
                nanos *= 10;
            }
        }
        long offset = 0;
        ReadOnlySpan<char> zone = text.AsSpan(i);
        if (zone is not "Z")
        {
            if (zone.Length != 6 || zone[0] is not ('+' or '-') || zone[3] != ':' ||
                !int.TryParse(zone.Slice(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out int h) ||
                !int.TryParse(zone.Slice(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out int m))
            {
                return false;
            }
            offset = ((h * 60) + m) * 60L * (zone[0] == '+' ? 1 : -1);
        }
        seconds = ((whole.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond) - offset;
        return seconds is >= MinTimestampSeconds and <= MaxTimestampSeconds;
    }

    /// <summary>Shortest round-trip text; non-finite values are the JSON strings "NaN", "Infinity", "-Infinity".</summary>
    public static string FormatDouble(double v, out bool isNumber)
    {
        isNumber = double.IsFinite(v);
        return double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity"
            : v.ToString("R", CultureInfo.InvariantCulture);
    }

    public static string FormatFloat(float v, out bool isNumber)
    {
        isNumber = float.IsFinite(v);
        return float.IsNaN(v) ? "NaN" : float.IsPositiveInfinity(v) ? "Infinity" : float.IsNegativeInfinity(v) ? "-Infinity"
            : v.ToString("R", CultureInfo.InvariantCulture);
    }

    public static bool TryParseDouble(string text, out double value)
    {
        switch (text)
        {
            case "NaN":
                value = double.NaN;
                return true;
            case "Infinity":
                value = double.PositiveInfinity;
                return true;
            case "-Infinity":
                value = double.NegativeInfinity;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
        }
    }

    private static bool TrySplitSecondsAndNanos(ReadOnlySpan<char> body, out long seconds, out int nanos)
    {
        seconds = 0;
        nanos = 0;
        int dot = body.IndexOf('.');
        ReadOnlySpan<char> secs = dot < 0 ? body : body[..dot];
        ReadOnlySpan<char> frac = dot < 0 ? [] : body[(dot + 1)..];
        if (secs.IsEmpty || frac.Length > 9 || (dot >= 0 && frac.IsEmpty) ||
            !long.TryParse(secs, NumberStyles.None, CultureInfo.InvariantCulture, out seconds))
        {
            return false;
        }
        if (!frac.IsEmpty)
        {
            if (!int.TryParse(frac, NumberStyles.None, CultureInfo.InvariantCulture, out nanos))
            {
                return false;
            }
            for (int d = frac.Length; d < 9; d++)
            {
                nanos *= 10;
            }
        }
        return true;
    }

    /// <summary>Appends ".ddd", ".dddddd" or ".ddddddddd" (the fewest groups of three that keep every digit), or nothing.</summary>
    private static void AppendFraction(StringBuilder sb, int nanos)
    {
        if (nanos == 0)
        {
            return;
        }
        if (nanos % 1_000_000 == 0)
        {
            sb.Append('.').Append((nanos / 1_000_000).ToString("D3", CultureInfo.InvariantCulture));
        }
        else if (nanos % 1_000 == 0)
        {
            sb.Append('.').Append((nanos / 1_000).ToString("D6", CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append('.').Append(nanos.ToString("D9", CultureInfo.InvariantCulture));
        }
    }
}
