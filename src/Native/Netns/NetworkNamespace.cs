using Microsoft.Win32.SafeHandles;

namespace Sidecar.Native.Netns;

/// <summary>
/// A handle on a network namespace (an nsfs file such as <c>/var/run/netns/NAME</c> or
/// <c>/proc/PID/ns/net</c>). <see cref="Run{T}"/> executes code on a dedicated thread that has
/// joined the namespace with setns(2); sockets created there belong to that namespace for their
/// whole life and may then be used from any thread. The calling thread and the thread pool never
/// change namespace.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    /// <summary>Where <c>ip netns add NAME</c> bind-mounts the namespace (iproute2 NETNS_RUN_DIR).</summary>
    public const string NamedDirectory = "/var/run/netns";

    private readonly SafeFileHandle _handle;

    private NetworkNamespace(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The nsfs path this handle was opened from.</summary>
    public string Path { get; }

    /// <summary>Opens a namespace created by <c>ip netns add <paramref name="name"/></c>.</summary>
    /// <exception cref="ArgumentException">The name is empty or contains a path separator.</exception>
    public static NetworkNamespace OpenNamed(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException("namespace name must be a single path component", nameof(name));
        }

        return Open(NamedDirectory + "/" + name);
    }

    /// <summary>Opens any nsfs path, e.g. <c>/proc/PID/ns/net</c>.</summary>
    public static NetworkNamespace Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new NetworkNamespace(handle, path);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread inside this namespace and returns its result;
    /// its exception, if any, is rethrown here. Blocks until the thread ends; keep the work short
    /// (create and bind sockets, then return them).
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">setns(2) failed (EPERM without CAP_SYS_ADMIN).</exception>
    public T Run<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        T result = default!;
        Exception? failure = null;

        // setns(2) with CLONE_NEWNET affects only the calling task (thread). A dedicated thread
        // that ends afterwards is the only safe carrier: a pool thread would keep the namespace.
        var thread = new Thread(() =>
        {
            try
            {
                NetnsInterop.Enter(_handle);
                result = action();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        {
            IsBackground = true,
            Name = "netns-enter",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
