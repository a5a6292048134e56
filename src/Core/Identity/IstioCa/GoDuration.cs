using System.Globalization;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>
/// Go's <c>time.ParseDuration</c> syntax, which pilot-agent's duration env vars use (<c>SECRET_TTL=24h</c>, <c>90s</c>,
/// <c>1h30m</c>, <c>1.5h</c>): a sequence of decimal numbers each with a unit ns, us (µs), ms, s, m, h. Negative values are
/// refused here (no duration we read may be negative).
/// </summary>
public static class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrEmpty(text)) return false;
        var span = text.AsSpan();
        if (span[0] == '+') span = span[1..];
        if (span.SequenceEqual("0")) return true;
        decimal totalTicks = 0;
        while (!span.IsEmpty)
        {
            var numberEnd = 0;
            while (numberEnd < span.Length && (char.IsAsciiDigit(span[numberEnd]) || span[numberEnd] == '.')) numberEnd++;
            if (numberEnd == 0 || !decimal.TryParse(span[..numberEnd], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
            span = span[numberEnd..];
            var unitEnd = 0;
            while (unitEnd < span.Length && !char.IsAsciiDigit(span[unitEnd]) && span[unitEnd] != '.') unitEnd++;
            decimal ticksPerUnit = span[..unitEnd] switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1m,
            };
            if (ticksPerUnit < 0) return false;
            span = span[unitEnd..];
            totalTicks += number * ticksPerUnit;
            if (totalTicks > TimeSpan.MaxValue.Ticks) return false;
        }
        value = TimeSpan.FromTicks((long)totalTicks);
        return true;
    }
}
