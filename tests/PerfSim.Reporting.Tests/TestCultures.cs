using System.Globalization;

namespace PerfSim.Reporting.Tests;

internal static class TestCultures
{
    /// <summary>
    /// A culture formatting numbers like de-DE ("1.234,5"). Built by hand because the test host runs
    /// with InvariantGlobalization, where <c>new CultureInfo("de-DE")</c> is not available.
    /// </summary>
    public static CultureInfo CommaDecimal { get; } = Create();

    private static CultureInfo Create()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.PercentDecimalSeparator = ",";
        culture.NumberFormat.NegativeSign = "\u2212";
        return culture;
    }
}
