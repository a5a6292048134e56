namespace Sidecar.Native.Nftables;

/// <summary>The three sidecar tables with the chains each may hold, in the order Istio declares them.</summary>
internal static class SidecarCaptureTables
{
    public static NftTable NewNat() => new(IstioNft.NatTable,
    [
        NftChainSpec.Base(IstioNft.Prerouting, "nat", "prerouting", -100),
        NftChainSpec.Base(IstioNft.Output, "nat", "output", -100),
        NftChainSpec.Regular(IstioNft.Inbound),
        NftChainSpec.Regular(IstioNft.Redirect),
        NftChainSpec.Regular(IstioNft.InRedirect),
        NftChainSpec.Regular(IstioNft.OutputChain),
        NftChainSpec.Regular(IstioNft.OutputDns),
    ]);

    // mangle output is a "route" chain: a mark set there re-routes the packet (the TPROXY policy route).
    public static NftTable NewMangle() => new(IstioNft.MangleTable,
    [
        NftChainSpec.Base(IstioNft.Prerouting, "filter", "prerouting", -150),
        NftChainSpec.Base(IstioNft.Output, "route", "output", -150),
        NftChainSpec.Regular(IstioNft.Divert),
        NftChainSpec.Regular(IstioNft.Tproxy),
        NftChainSpec.Regular(IstioNft.Inbound),
        NftChainSpec.Regular(IstioNft.Drop),
    ]);

    public static NftTable NewRaw() => new(IstioNft.RawTable,
    [
        NftChainSpec.Base(IstioNft.Prerouting, "filter", "prerouting", -300),
        NftChainSpec.Base(IstioNft.Output, "filter", "output", -300),
        NftChainSpec.Regular(IstioNft.Inbound),
        NftChainSpec.Regular(IstioNft.OutputDns),
    ]);
}
