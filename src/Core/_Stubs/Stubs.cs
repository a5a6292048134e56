// TEMPORARY: replaced by the Routing/Balancing modules when their branch merges.
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;

namespace Sidecar.Core.Routing
{
    public sealed class RouteTable
    {
        private readonly RouteConfigModel _m;
        private RouteTable(RouteConfigModel m) => _m = m;
        public static RouteTable Build(RouteConfigModel m) => new(m);
        public RouteModel? Match<T>(ref T request, out VirtualHostModel? vh) where T : IRequestView, allows ref struct
        {
            vh = _m.VirtualHosts.Length > 0 ? _m.VirtualHosts[0] : null;
            if (vh is null) return null;
            foreach (var r in vh.Routes)
            {
                if (request.PathAndQuery.StartsWith(System.Text.Encoding.ASCII.GetBytes(r.Match.Value))) return r;
            }
            return null;
        }
    }
}

namespace Sidecar.Core.Balancing
{
    public sealed class EndpointState(IPEndPoint ep)
    {
        public IPEndPoint EndPoint { get; } = ep;
    }

    public sealed class ClusterState(ClusterModel model)
    {
        private int _rr;
        private readonly EndpointState[] _eps = [.. model.Localities.SelectMany(l => l.Endpoints).Select(e => new EndpointState(new IPEndPoint(e.Address!, e.Port)))];
        public ClusterModel Model { get; } = model;
        public EndpointState? Pick() => _eps.Length == 0 ? null : _eps[(int)((uint)Interlocked.Increment(ref _rr) % (uint)_eps.Length)];
        public bool TryAcquireRequest() => true;
        public void ReleaseRequest() { }
        public bool TryAcquireConnection() => true;
        public void ReleaseConnection() { }
    }

    public sealed class ClusterManager : IDisposable
    {
        private readonly Dictionary<string, ClusterState> _c = new(StringComparer.Ordinal);
        public ClusterManager(IEnumerable<ClusterModel> clusters) { foreach (var c in clusters) _c[c.Name] = new ClusterState(c); }
        public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ClusterState? s) => _c.TryGetValue(name, out s);
        public void Dispose() { }
    }
}
