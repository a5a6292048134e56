using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Tests.Config;
using Xunit;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// Runs tests/peers/fake-istiod (Node, @grpc/grpc-js) on loopback for one test: it serves ADS with resources
/// from ../shared/conformance/istio/envoy-config-dumps, takes commands on stdin and reports every request
/// and response on stdout. Needs node, the grpc peer packages (.cache/grpc-peer) and the Envoy protos
/// (.cache/envoy-protos); both are installed here when missing, and a failure fails the test (CI has npm).
/// </summary>
internal sealed class FakeIstiod : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<JsonElement> _events = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task _reader;
    private int _nextId;

    private FakeIstiod(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadEventsAsync);
    }

    public int Port { get; private set; }

    public string Stderr { get; private set; } = "";

    /// <param name="environment">Extra environment for the fake, e.g. FAKE_ISTIOD_CERT / FAKE_ISTIOD_KEY to serve TLS.</param>
    public static async Task<FakeIstiod> StartAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        // Paths as in Config/EnvoyProtos.cs (not used here, so this file also compiles into the Native tests).
        string root = RepoPaths.RepoRoot;
        string nodeModules = Path.Combine(root, ".cache", "grpc-peer", "node_modules");
        string protoDeps = Path.Combine(root, ".cache", "envoy-protos", "package", "deps");
        bool ProtosAvailable() => Directory.Exists(Path.Combine(protoDeps, "envoy-api", "envoy", "config", "listener", "v3"));
        if (!Directory.Exists(Path.Combine(nodeModules, "@grpc", "grpc-js")))
            await RunScriptAsync(Path.Combine(root, "tests", "E2E.Tests", "peers", "grpc", "install.sh"), root);
        if (!ProtosAvailable())
            await RunScriptAsync(Path.Combine(root, "tests", "Core.Tests", "Config", "fetch-envoy-protos.sh"), null);
        Assert.True(ProtosAvailable(), $"Envoy protos not found under {protoDeps}: run tests/Core.Tests/Config/fetch-envoy-protos.sh");

        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(root, "tests", "peers", "fake-istiod", "fake-istiod.js"));
        psi.ArgumentList.Add(protoDeps);
        psi.ArgumentList.Add(Path.GetFullPath(Path.Combine(root, "..", "shared", "conformance", "istio", "envoy-config-dumps")));
        psi.Environment["NODE_PATH"] = nodeModules;
        foreach (var kv in environment ?? new Dictionary<string, string>()) psi.Environment[kv.Key] = kv.Value;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        var fake = new FakeIstiod(process);
        _ = Task.Run(async () => fake.Stderr = await process.StandardError.ReadToEndAsync());
        JsonElement listening = await fake.WaitForAsync(e => Is(e, "listening"), 0, TimeSpan.FromSeconds(60), "fake istiod listening");
        fake.Port = listening.GetProperty("port").GetInt32();
        return fake;
    }

    /// <summary>How many events have been seen so far: pass it to <see cref="WaitForAsync"/> to look only at later ones.</summary>
    public int Mark
    {
        get
        {
            lock (_lock) return _events.Count;
        }
    }

    public List<JsonElement> Events(string kind)
    {
        lock (_lock) return _events.Where(e => Is(e, kind)).ToList();
    }

    /// <summary>Requests the fake received, in order (optionally of one stream).</summary>
    public List<JsonElement> Requests(int? stream = null) =>
        Events("request").Where(e => stream is null || e.GetProperty("stream").GetInt32() == stream).ToList();

    public async Task<JsonElement> CommandAsync(JsonObject command)
    {
        int id = Interlocked.Increment(ref _nextId);
        int mark = Mark;
        command["id"] = id;
        await _process.StandardInput.WriteLineAsync(command.ToJsonString());
        await _process.StandardInput.FlushAsync();
        JsonElement done = await WaitForAsync(e => Is(e, "done") && e.GetProperty("id").GetInt32() == id, mark, TimeSpan.FromSeconds(30), "command " + command["cmd"]);
        if (done.TryGetProperty("error", out JsonElement error)) throw new InvalidOperationException($"fake istiod: {error.GetString()}");
        return done.GetProperty("result");
    }

    /// <summary>Many commands written back to back, then one wait for the last one's answer (thousands of resources
    /// load in seconds instead of one round trip each); the first error among them is thrown.</summary>
    public async Task CommandsAsync(IEnumerable<JsonObject> commands)
    {
        int mark = Mark, first = _nextId + 1, last = first - 1;
        foreach (JsonObject command in commands)
        {
            command["id"] = last = Interlocked.Increment(ref _nextId);
            await _process.StandardInput.WriteLineAsync(command.ToJsonString());
        }
        await _process.StandardInput.FlushAsync();
        if (last < first) return;
        await WaitForAsync(e => Is(e, "done") && e.GetProperty("id").GetInt32() == last, mark, TimeSpan.FromSeconds(120), "the last of many commands");
        foreach (JsonElement done in Events("done"))
        {
            int id = done.GetProperty("id").GetInt32();
            if (id >= first && id <= last && done.TryGetProperty("error", out JsonElement error))
                throw new InvalidOperationException($"fake istiod: {error.GetString()}");
        }
    }

    public Task<JsonElement> PutAsync(string type, string name, string? from = null) =>
        CommandAsync(new JsonObject { ["cmd"] = "put", ["type"] = type, ["name"] = name, ["from"] = from });

    public Task<JsonElement> PushAsync(params string[] types)
    {
        var command = new JsonObject { ["cmd"] = "push" };
        if (types.Length > 0) command["types"] = new JsonArray(types.Select(t => (JsonNode)t).ToArray());
        return CommandAsync(command);
    }

    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> predicate, int from, TimeSpan timeout, string what) =>
        (await WaitForIndexedAsync(predicate, from, timeout, what)).Event;

    /// <summary>As <see cref="WaitForAsync"/>, with the event's position (pass Index + 1 as the next <c>from</c>).</summary>
    public async Task<(JsonElement Event, int Index)> WaitForIndexedAsync(Func<JsonElement, bool> predicate, int from, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_lock)
            {
                for (int i = from; i < _events.Count; i++)
                {
                    if (predicate(_events[i])) return (_events[i], i);
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _process.HasExited && !await _signal.WaitAsync(0))
                throw new TimeoutException($"fake istiod: no {what} within {timeout} (exited: {_process.HasExited}; stderr: {Stderr})");
            await _signal.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public static bool Is(JsonElement e, string kind) => e.GetProperty("event").GetString() == kind;

    public static string Str(JsonElement e, string property) => e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    public static List<string> Strings(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) ? v.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // the fake exits when stdin closes
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _reader.ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task ReadEventsAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            lock (_lock) _events.Add(doc.RootElement.Clone());
            _signal.Release();
        }
        _signal.Release();
    }

    private static async Task RunScriptAsync(string script, string? argument)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        if (argument is not null) psi.ArgumentList.Add(argument);
        using var p = Process.Start(psi)!;
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{script} failed ({p.ExitCode}): {err}");
    }
}
