namespace Sidecar;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("sidecar " + typeof(Program).Assembly.GetName().Version);
        return args.Length == 0 ? 0 : 0;
    }
}
