using System.Globalization;
using System.Text;

namespace Sidecar.Native.Nftables;

/// <summary>
/// Renders tables as an <c>nft -f</c> script in the form Istio's knftables transactions print:
/// per table with rules, <c>add table</c> + <c>flush table</c>, only the chains that get rules,
/// then the rules, each with a <c>counter</c> before its final statement.
/// </summary>
public static class NftScript
{
    public static string Render(IEnumerable<NftTable> tables)
    {
        var sb = new StringBuilder();
        foreach (NftTable table in tables)
        {
            RenderTable(sb, table);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Commands that remove the named tables if they exist and do nothing otherwise
    /// (<c>add</c> then <c>delete</c>: nft 1.0.6 has no <c>destroy</c>).
    /// </summary>
    public static string DeleteTables(IEnumerable<string> tables)
    {
        var sb = new StringBuilder();
        foreach (string t in tables)
        {
            sb.Append("add table ").Append(IstioNft.Family).Append(' ').Append(t).Append('\n');
            sb.Append("delete table ").Append(IstioNft.Family).Append(' ').Append(t).Append('\n');
        }

        return sb.ToString();
    }

    private static void RenderTable(StringBuilder sb, NftTable table)
    {
        if (table.Rules.Count == 0)
        {
            return;
        }

        string prefix = IstioNft.Family + " " + table.Name;
        sb.Append("add table ").Append(prefix).Append('\n');
        sb.Append("flush table ").Append(prefix).Append('\n');
        foreach (NftChainSpec chain in table.Chains)
        {
            if (!HasRules(table, chain.Name))
            {
                continue;
            }

            sb.Append("add chain ").Append(prefix).Append(' ').Append(chain.Name);
            if (chain.IsBaseChain)
            {
                sb.Append(" { type ").Append(chain.Type).Append(" hook ").Append(chain.Hook)
                  .Append(" priority ").Append(chain.Priority.ToString(CultureInfo.InvariantCulture)).Append(" ; }");
            }

            sb.Append('\n');
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (NftRule rule in table.Rules)
        {
            counts.TryGetValue(rule.Chain, out int count);

            // nft refuses "insert … index N" when the chain has no rule at N; an insert at or past
            // the end is the same as an append, which is what Istio emits then.
            bool insert = rule.InsertAt is int at && at < count;
            sb.Append(insert ? "insert rule " : "add rule ").Append(prefix).Append(' ').Append(rule.Chain);
            if (insert)
            {
                sb.Append(" index ").Append(rule.InsertAt!.Value.ToString(CultureInfo.InvariantCulture));
            }

            if (rule.Match.Length > 0)
            {
                sb.Append(' ').Append(rule.Match);
            }

            sb.Append(rule.Counter ? " counter " : " ").Append(rule.Action).Append('\n');
            counts[rule.Chain] = count + 1;
        }
    }

    private static bool HasRules(NftTable table, string chain)
    {
        foreach (NftRule r in table.Rules)
        {
            if (r.Chain == chain)
            {
                return true;
            }
        }

        return false;
    }
}
