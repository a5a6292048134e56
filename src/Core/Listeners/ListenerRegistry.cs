using System.Net;

namespace Sidecar.Core.Listeners;

/// <summary>
/// The bound listeners, for the original_dst hand-off: a connection captured onto a
/// <c>use_original_dst</c> listener continues on the listener bound to its original destination
/// (exact address first, then a wildcard address on the same port), as Envoy does.
/// </summary>
public sealed class ListenerRegistry
{
    private volatile ListenerRuntime[] _listeners = [];

    private readonly Lock _writers = new();

    public void Add(ListenerRuntime listener)
    {
        lock (_writers) _listeners = [.. _listeners, listener];
    }

    public void Remove(ListenerRuntime listener)
    {
        lock (_writers) _listeners = [.. _listeners.Where(l => l != listener)];
    }

    public ListenerRuntime? Find(IPEndPoint destination)
    {
        ListenerRuntime? wildcard = null;
        foreach (ListenerRuntime l in _listeners)
        {
            IPEndPoint a = l.Model.Address;
            if (a.Port != destination.Port) continue;
            if (a.Address.Equals(destination.Address)) return l;
            if (a.Address.Equals(IPAddress.Any) || a.Address.Equals(IPAddress.IPv6Any)) wildcard ??= l;
        }
        return wildcard;
    }
}
