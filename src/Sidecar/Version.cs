namespace Sidecar;

internal static class Version
{
    public const string Number = "0.1.0";
    public static string Text => $"sidecar/{Number}/linux-x64/Release/native-aot";
}
