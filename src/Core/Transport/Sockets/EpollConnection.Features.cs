using System.Collections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.Core.Transport.Sockets;

internal sealed partial class EpollConnection
{
    /// <summary>
    /// The connection's features: the socket (for options such as SO_ORIGINAL_DST and for shutdown), plus anything a
    /// caller sets. The socket feature costs nothing until asked for.
    /// </summary>
    private sealed class ConnectionFeatures(EpollConnection connection) : IFeatureCollection
    {
        private FeatureCollection? _extra;

        public bool IsReadOnly => false;
        public int Revision => _extra?.Revision ?? 0;

        public object? this[Type key]
        {
            get => key == typeof(IConnectionSocketFeature) ? connection : _extra?[key];
            set => (_extra ??= new FeatureCollection())[key] = value;
        }

        public TFeature? Get<TFeature>() =>
            typeof(TFeature) == typeof(IConnectionSocketFeature) ? (TFeature)(object)connection : _extra is null ? default : _extra.Get<TFeature>();

        public void Set<TFeature>(TFeature? instance) => (_extra ??= new FeatureCollection()).Set(instance);

        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
        {
            yield return new KeyValuePair<Type, object>(typeof(IConnectionSocketFeature), connection);
            if (_extra is null) yield break;
            foreach (KeyValuePair<Type, object> pair in _extra) yield return pair;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
