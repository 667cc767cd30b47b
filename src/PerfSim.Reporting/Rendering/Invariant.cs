using System.Globalization;

namespace PerfSim.Reporting.Rendering;

/// <summary>Culture-free number formats used by every renderer.</summary>
internal static class Invariant
{
    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Shortest text that parses back to the same double; "" for NaN (no value).</summary>
    public static string RoundTrip(double value) =>
        double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

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
        double scaled = value / scale;
        string text = scaled.ToString(Math.Abs(scaled) >= 100 ? "F0" : Math.Abs(scaled) >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return text + suffix;
    }
}
