using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Http1;
using Sidecar.Core.Transport;

namespace Sidecar.Admin;

/// <summary>
/// Envoy's admin interface (default 127.0.0.1:15000): its own listener and loop, isolated from the
/// data plane's listeners. One request per connection (responses carry "connection: close").
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly AdminHandlers _handlers;
    private IConnectionListener? _listener;
    private Task? _loop;

    public AdminServer(IPEndPoint endpoint, AdminHandlers handlers)
    {
        _endpoint = endpoint;
        _handlers = handlers;
    }

    public EndPoint? BoundEndPoint => _listener?.EndPoint;

    public async Task StartAsync(CancellationToken ct)
    {
        _listener = await SocketListener.BindAsync(_endpoint, new TransportSettings { InlineScheduling = false }, ct);
        _loop = AcceptLoopAsync(_listener);
    }

    private async Task AcceptLoopAsync(IConnectionListener listener)
    {
        while (true)
        {
            ConnectionContext? c;
            try
            {
                c = await listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (c is null) return;
            _ = ServeAsync(c);
        }
    }

    private async Task ServeAsync(ConnectionContext c)
    {
        using var head = new Http1Head();
        head.Reset();
        PipeReader input = c.Transport.Input;
        PipeWriter output = c.Transport.Output;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                ReadResult r = await input.ReadAsync(timeout.Token);
                var reader = new SequenceReader<byte>(r.Buffer);
                Http1ParseStatus s = Http1HeadParser.ParseRequest(ref reader, head, Http1Limits.Default, out _);
                if (s == Http1ParseStatus.Complete)
                {
                    input.AdvanceTo(reader.Position);
                    break;
                }
                if (s == Http1ParseStatus.Error || r.IsCompleted)
                {
                    await WriteAsync(output, new AdminResponse(400, "text/plain", "bad request\n"));
                    return;
                }
                input.AdvanceTo(reader.Position, r.Buffer.End);
            }
            string method = Encoding.ASCII.GetString(head.Method);
            string target = Encoding.ASCII.GetString(head.PathAndQuery);
            AdminResponse response = await _handlers.HandleAsync(method, target);
            await WriteAsync(output, response);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException or InvalidOperationException)
        {
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            await c.DisposeAsync();
        }
    }

    private static async Task WriteAsync(PipeWriter output, AdminResponse response)
    {
        if (response.Stream is not null)
        {
            // A page too large to build first: no content-length, the body ends when the connection closes
            // (RFC 9112 §6.3, item 8); every admin response closes its connection anyway.
            output.Write(Head(response, contentLength: null));
            await response.Stream(output);
            await output.FlushAsync();
            return;
        }
        byte[] body = Encoding.UTF8.GetBytes(response.Body);
        output.Write(Head(response, body.Length));
        output.Write(body);
        await output.FlushAsync();
    }

    private static byte[] Head(AdminResponse response, int? contentLength) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {response.Status} {Encoding.ASCII.GetString(Core.Proxy.LocalReply.ReasonPhrase(response.Status))}\r\n"
        + $"content-type: {response.ContentType}\r\n"
        + (contentLength is int length ? $"content-length: {length}\r\n" : "")
        + "cache-control: no-cache, max-age=0\r\nx-content-type-options: nosniff\r\nserver: envoy\r\nconnection: close\r\n\r\n");

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.UnbindAsync();
            await _listener.DisposeAsync();
        }
        if (_loop is not null) await _loop;
    }
}

/// <summary>An admin reply: a <paramref name="Body"/> built up front, or a <paramref name="Stream"/> that writes a large page as it goes.</summary>
internal readonly record struct AdminResponse(int Status, string ContentType, string Body, Func<PipeWriter, Task>? Stream = null);
