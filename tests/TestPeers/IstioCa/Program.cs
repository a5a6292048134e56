using System.Globalization;
using Sidecar.TestPeers.IstioCa;

// Console mode, for E2E runs and manual use:
//   Sidecar.TestPeers.IstioCa [--port N] [--lifetime-seconds S] [--server-name NAME] [--plaintext] --root-out FILE
// Writes the root to FILE, prints "listening 127.0.0.1:PORT" and serves until stdin closes or SIGTERM.
var options = new TestIstioCaOptions();
string? rootOut = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port": options = options with { Port = int.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
        case "--lifetime-seconds": options = options with { Lifetime = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)) }; break;
        case "--server-name": options = options with { ServerName = args[++i] }; break;
        case "--plaintext": options = options with { Plaintext = true }; break;
        case "--root-out": rootOut = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
await using var ca = await TestIstioCa.StartAsync(options);
if (rootOut is not null) ca.WriteRootCert(rootOut);
Console.WriteLine($"listening {ca.Address}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
var stdinClosed = Task.Run(() => Console.In.ReadToEnd());
await Task.WhenAny(stdinClosed, Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default));
return 0;
