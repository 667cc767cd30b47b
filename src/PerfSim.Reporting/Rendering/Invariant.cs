using System.Globalization;

namespace PerfSim.Reporting.Rendering;

/// <summary>Culture-free number formats used by every renderer.</summary>
internal static class Invariant
{
    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Shortest text that parses back to the same double, never in E-notation; "" for NaN (no value).</summary>
    public static string RoundTrip(double value)
    {
        if (double.IsNaN(value))
        {
            return "";
        }

        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('E', StringComparison.Ordinal))
        {
            return text;
        }

        // "R" switches to E-notation from 1e15 and below 1e-5. Doubles that large are integers, so
        // F0 is exact; small ones keep the same significant digits as decimals.
        return Math.Abs(value) >= 1
            ? value.ToString("F0", CultureInfo.InvariantCulture)
            : decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A byte count in the largest binary unit that keeps it short: 16 MiB, 1.5 GiB, 4096 B.</summary>
    public static string Bytes(long bytes)
    {
        (long scale, string unit) = Math.Abs(bytes) switch
        {
            >= 1L << 40 => (1L << 40, "TiB"),
            >= 1L << 30 => (1L << 30, "GiB"),
            >= 1L << 20 => (1L << 20, "MiB"),
            >= 1L << 10 => (1L << 10, "KiB"),
            _ => (1, "B"),
        };
        double scaled = (double)bytes / scale;
        return scaled.ToString(scaled == Math.Floor(scaled) ? "F0" : "0.##", CultureInfo.InvariantCulture) + " " + unit;
    }

    /// <summary>Fixed decimals for humans; "n/a" for NaN.</summary>
    public static string Fixed(double value, int decimals) =>
        double.IsNaN(value) ? "n/a" : value.ToString("F" + Integer(decimals), CultureInfo.InvariantCulture);

    /// <summary>Three significant digits with an SI suffix (1.23k, 4.50G) for axis ticks and rates.</summary>
    public static string Compact(double value)
    {
        if (double.IsNaN(value))
        {
            return "n/a";
        }

        double magnitude = Math.Abs(value);
        (double scale, string suffix) = magnitude switch
        {
            >= 1e12 => (1e12, "T"),
            >= 1e9 => (1e9, "G"),
            >= 1e6 => (1e6, "M"),
            >= 1e3 => (1e3, "k"),
            _ => (1, ""),
        };
        if (magnitude > 0 && magnitude < 0.01)
        {
            // Three significant digits as decimals (0.00123), never E-notation.
            int decimals = Math.Min(15, 2 - (int)Math.Floor(Math.Log10(magnitude)));
            return Math.Round(value, decimals).ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
        }

        double scaled = value / scale;
        string text = scaled.ToString(Math.Abs(scaled) >= 100 ? "F0" : Math.Abs(scaled) >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return text + suffix;
    }
}
