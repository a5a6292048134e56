using System.Runtime.CompilerServices;

namespace Sidecar.Core.Tests.Detect;

/// <summary>Loads the captured first bytes under testdata/ (see testdata/README.md).</summary>
internal static class Golden
{
    public static readonly string[] TlsClientHellos =
    [
        "openssl_sni_alpn.hex",
        "openssl_nosni_noalpn.hex",
        "openssl_tls12_istio_alpn.hex",
        "openssl_multirecord.hex",
        "curl_http2.hex",
        "curl_http11.hex",
        "python_ssl.hex",
    ];

    public static byte[] Load(string name) => Convert.FromHexString(File.ReadAllText(Path.Combine(Directory(), name)).Trim());

    // The source path is baked in at compile time, so the test project needs no content-copy items.
    private static string Directory([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "testdata");
}
