namespace Sidecar.Native.Nftables;

/// <summary>A table of the <c>inet</c> family: its possible chains (in declaration order) and its rules (in emission order).</summary>
public sealed class NftTable
{
    private readonly List<NftRule> _rules = [];

    public NftTable(string name, IReadOnlyList<NftChainSpec> chains)
    {
        Name = name;
        Chains = chains;
    }

    public string Name { get; }

    public IReadOnlyList<NftChainSpec> Chains { get; }

    public IReadOnlyList<NftRule> Rules => _rules;

    public void Append(string chain, string match, string action) => Add(new NftRule(chain, match, action));

    /// <summary>A rule without a counter (Istio's ambient tables count only the rules that decide something, not the hook jumps).</summary>
    public void AppendUncounted(string chain, string match, string action) => Add(new NftRule(chain, match, action, Counter: false));

    public void Insert(string chain, int index, string match, string action) => Add(new NftRule(chain, match, action, index));

    private void Add(NftRule rule)
    {
        bool known = false;
        foreach (NftChainSpec c in Chains)
        {
            known |= c.Name == rule.Chain;
        }

        if (!known)
        {
            throw new InvalidOperationException($"table {Name} has no chain {rule.Chain}");
        }

        _rules.Add(rule);
    }
}
