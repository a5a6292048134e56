using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Reflection;
using Xunit;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// Deep equality of config models by their public properties (the models are classes without value equality), so a
/// test can prove two translation paths built the same model. Reflection is fine here: tests are not AOT-compiled.
/// </summary>
internal static class ModelAssert
{
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Test code on the JIT: the models' properties are not trimmed away.")]
    public static void Equal(object? expected, object? actual, string path = "model", ISet<string>? ignore = null)
    {
        if (ReferenceEquals(expected, actual)) return;
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: {expected ?? "null"} vs {actual ?? "null"}");
            return;
        }
        Type type = expected.GetType();
        Assert.True(type == actual.GetType(), $"{path}: {type} vs {actual.GetType()}");
        if (expected is string || type.IsPrimitive || type.IsEnum || expected is TimeSpan or IPAddress or IPEndPoint or decimal)
        {
            Assert.True(expected.Equals(actual), $"{path}: {expected} vs {actual}");
            return;
        }
        if (type.GetProperty("IsDefault") is PropertyInfo isDefault && isDefault.PropertyType == typeof(bool) && type.IsValueType)
        {
            bool d1 = (bool)isDefault.GetValue(expected)!, d2 = (bool)isDefault.GetValue(actual)!;
            Assert.True(d1 == d2, $"{path}: default array on one side only");
            if (d1) return;
        }
        if (expected is IEnumerable e1 && actual is IEnumerable e2)
        {
            object?[] a = [.. e1.Cast<object?>()], b = [.. e2.Cast<object?>()];
            Assert.True(a.Length == b.Length, $"{path}: {a.Length} items vs {b.Length}");
            // Dictionaries enumerate as KeyValuePairs (compared by Key and Value); equal content enumerates in the same order.
            for (int i = 0; i < a.Length; i++) Equal(a[i], b[i], $"{path}[{i}]", ignore);
            return;
        }
        if (type.Namespace?.StartsWith("Sidecar.", StringComparison.Ordinal) != true)
        {
            // Not one of our models (Regex, certificates, …): the framework's equality, else the same text.
            Assert.True(expected.Equals(actual) || expected.ToString() == actual.ToString(), $"{path}: {expected} vs {actual}");
            return;
        }
        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || ignore?.Contains(p.Name) == true) continue;
            Equal(p.GetValue(expected), p.GetValue(actual), path + "." + p.Name, ignore);
        }
    }
}
