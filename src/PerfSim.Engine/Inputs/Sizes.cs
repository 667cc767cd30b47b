using System.Globalization;

namespace PerfSim.Engine.Inputs;

/// <summary>Parses sizes and numbers the way users write them: <c>16G</c>, <c>512MiB</c>, <c>0x1000</c>.</summary>
public static class Sizes
{
    /// <summary>Parses a size in bytes: an integer with an optional binary unit K, M, G or T
    /// (optionally followed by <c>iB</c> or <c>B</c>); a bare number is bytes.</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string s = text.Trim();
        int unitStart = s.Length;
        while (unitStart > 0 && char.IsLetter(s[unitStart - 1]))
        {
            unitStart--;
        }

        string unit = s[unitStart..].ToUpperInvariant();
        int shift = unit switch
        {
            "" or "B" => 0,
            "K" or "KB" or "KIB" => 10,
            "M" or "MB" or "MIB" => 20,
            "G" or "GB" or "GIB" => 30,
            "T" or "TB" or "TIB" => 40,
            _ => -1,
        };
        if (shift < 0 || !long.TryParse(s[..unitStart], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return false;
        }

        if (value > (long.MaxValue >> shift))
        {
            return false;
        }

        bytes = value << shift;
        return true;
    }

    /// <summary>Parses a non-negative integer, decimal or <c>0x</c>-hexadecimal.</summary>
    public static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A size for people: <c>16 GiB</c>, <c>2 MiB</c>, <c>12 KiB</c>, or bytes.</summary>
    public static string Format(long bytes)
    {
        (long unit, string name)[] units = [(1L << 40, "TiB"), (1L << 30, "GiB"), (1L << 20, "MiB"), (1L << 10, "KiB")];
        foreach ((long unit, string name) in units)
        {
            if (bytes >= unit && bytes % unit == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / unit} {name}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
    }
}
