using System.Globalization;
using PerfSim.Reporting.Comparison;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Output;

namespace PerfSim.Cli.Commands;

/// <summary>
/// <c>perfsim compare BASELINE CURRENT</c>: two run reports, two sweeps or two BenchmarkDotNet
/// full JSON files, through <see cref="ResultComparer"/>. Exit 0 when nothing regressed, 1 on a
/// regression, 2 on unusable input, so CI can gate on it.
/// </summary>
/// <remarks>
/// Without <c>--threshold</c>, simulated figures must match exactly (they are model outputs for
/// a seed) and wall figures need a significant change beyond 5%. <c>--threshold P%</c> sets that
/// 5% and also lets simulated figures move by up to P% without counting as a change.
/// </remarks>
internal static class CompareCommand
{
    public static int Run(OptionSet options, TextWriter stdout)
    {
        if (options.Positionals.Count != 2)
        {
            throw new InputException($"perfsim compare: expected two files, BASELINE and CURRENT, got {options.Positionals.Count}: perfsim compare BASELINE CURRENT [--threshold 5%] [--metric GLOB]... [--out report.md]");
        }

        double? threshold = options.Has("threshold") ? Percent(options.String("threshold")!) : null;
        var comparison = new ComparisonOptions
        {
            DeterministicThreshold = threshold,
            StatisticalThreshold = threshold ?? new ComparisonOptions().StatisticalThreshold,
            NoiseFloorNs = options.Has("noise") ? Nanoseconds(options.String("noise")!) : new ComparisonOptions().NoiseFloorNs,
            Metrics = options.Strings("metric"),
            MetricsName = "--metric",
            OnlyChanged = options.Has("only-changed"),
            AllowMissing = options.Has("allow-missing"),
        };
        bool markdown = options.Choice("format", ["text", "markdown"], "text") == "markdown";
        string? outFile = options.String("out");
        if (outFile is not null)
        {
            OutputTarget.CheckFile(outFile, "--out");
        }

        ComparisonResult result = ResultComparer.CompareFiles(options.Positionals[0], options.Positionals[1], comparison);
        if (outFile is not null)
        {
            AtomicFile.WriteAllText(outFile, ComparisonRenderer.Markdown(result, comparison.OnlyChanged));
        }

        stdout.Write(markdown ? ComparisonRenderer.Markdown(result, comparison.OnlyChanged) : ComparisonRenderer.Text(result, comparison.OnlyChanged));
        return result.ExitCode;
    }

    /// <summary>"5%" or "5" (a percentage) as 0.05.</summary>
    private static double Percent(string text)
    {
        string number = text.EndsWith('%') ? text[..^1] : text;
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p >= 0 && p <= 1000
            ? p / 100
            : throw new InputException($"--threshold: '{text}' is not a percentage from 0% to 1000% (e.g. 5%)");
    }

    /// <summary>"1ns", "0.5" (ns) as a number of nanoseconds.</summary>
    private static double Nanoseconds(string text)
    {
        string number = text.EndsWith("ns", StringComparison.Ordinal) ? text[..^2] : text;
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double ns) && ns >= 0 && double.IsFinite(ns)
            ? ns
            : throw new InputException($"--noise: '{text}' is not a non-negative duration in ns (e.g. 1ns)");
    }
}
