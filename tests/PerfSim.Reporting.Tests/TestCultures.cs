using System.Globalization;

namespace PerfSim.Reporting.Tests;

internal static class TestCultures
{
    /// <summary>
    /// A culture formatting numbers like de-DE ("1.234,5"). Built by hand because the test host runs
    /// with InvariantGlobalization, where <c>new CultureInfo("de-DE")</c> is not available.
    /// </summary>
    public static CultureInfo CommaDecimal { get; } = Create();

    /// <summary>Makes <see cref="CommaDecimal"/> the current culture until disposed.</summary>
    public static IDisposable UseCommaDecimal()
    {
        var scope = new Scope(CultureInfo.CurrentCulture);
        CultureInfo.CurrentCulture = CommaDecimal;
        return scope;
    }

    private sealed class Scope(CultureInfo saved) : IDisposable
    {
        public void Dispose() => CultureInfo.CurrentCulture = saved;
    }

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
