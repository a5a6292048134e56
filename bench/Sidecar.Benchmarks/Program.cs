using BenchmarkDotNet.Running;

namespace Sidecar.Benchmarks;

public static class Program
{
    /// <summary>dotnet run -c Release --project bench/Sidecar.Benchmarks -- --filter '*' --job short</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
