namespace Sidecar.Native.Nftables;

/// <summary>
/// One rule: match expressions, then a counter (unless <see cref="Counter"/> is false), then the
/// final statement (verdict or NAT/mark action). <see cref="InsertAt"/> asks for
/// <c>insert rule … index N</c> (before the rule at N).
/// </summary>
public sealed record NftRule(string Chain, string Match, string Action, int? InsertAt = null, bool Counter = true);
