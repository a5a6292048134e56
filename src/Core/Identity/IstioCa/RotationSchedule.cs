namespace Sidecar.Core.Identity.IstioCa;

/// <summary>When to fetch the next certificate: pilot-agent's rotation rule for a success, capped exponential backoff for a failure.</summary>
internal static class RotationSchedule
{
    /// <summary>
    /// pilot-agent's secret cache (<c>secretcache.go</c> rotateTime): rotate when <c>(ratio ± jitter) · lifetime</c> is
    /// left, i.e. at <c>notAfter − (ratio + u) · (notAfter − notBefore)</c> with u uniform in [−jitter, +jitter].
    /// Computed from the certificate actually received: the CA may shorten the requested TTL.
    /// </summary>
    public static DateTimeOffset RotateAt(DateTimeOffset notBefore, DateTimeOffset notAfter, double ratio, double jitter, double uniform01)
    {
        var grace = ratio + (jitter * ((2 * uniform01) - 1));
        var lifetime = notAfter - notBefore;
        return notAfter - (lifetime * grace);
    }

    /// <summary><paramref name="initial"/> · 2^(failures−1), capped at <paramref name="max"/>, then ±20 % so retries of a fleet spread out.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan initial, TimeSpan max, double uniform01)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var delay = initial * Math.Pow(2, exponent);
        if (delay > max) delay = max;
        return delay * (0.8 + (0.4 * uniform01));
    }
}
