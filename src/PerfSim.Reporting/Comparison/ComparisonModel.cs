namespace PerfSim.Reporting.Comparison;

/// <summary>Outcome for one metric. <see cref="Slower"/> and <see cref="Changed"/> are regressions.</summary>
public enum Verdict
{
    /// <summary>No difference beyond the rules (threshold, significance, noise floor).</summary>
    Same,

    /// <summary>Better beyond the rules.</summary>
    Faster,

    /// <summary>Worse beyond the rules: a regression.</summary>
    Slower,

    /// <summary>A deterministic output with no better/worse direction differs: a regression, since the model changed.</summary>
    Changed,

    /// <summary>Too few samples (under 3 per side) to judge; never gated.</summary>
    Inconclusive,

    /// <summary>Present on one side only.</summary>
    Missing,
}

/// <summary>Which way is better for a metric.</summary>
public enum Direction
{
    LowerIsBetter,
    HigherIsBetter,

    /// <summary>Neither: any difference is reported as <see cref="Verdict.Changed"/>.</summary>
    None,
}

/// <summary>One compared metric. <see cref="Ratio"/> is current / baseline (medians for samples); NaN when undefined.</summary>
public sealed record ComparisonRow(string Name, string Metric, double Baseline, double Current, double Ratio, Verdict Verdict, string Note = "")
{
    /// <summary>Unit of <see cref="Baseline"/> and <see cref="Current"/> (ns, B/op, kB, faults/s); "" for plain counts.</summary>
    public string Unit { get; init; } = "";

    /// <summary>Which way is better, so tables can say how many times slower or faster a row is.</summary>
    public Direction Direction { get; init; } = Direction.None;

    /// <summary>
    /// How many times worse (Slower) or better (Faster) the current value is, always ≥ 1, as
    /// ResultsComparer's diff/base and base/diff columns; NaN when undefined (a zero baseline).
    /// </summary>
    public double Factor
    {
        get
        {
            double worse = Direction == Direction.HigherIsBetter ? 1 / Ratio : Ratio;
            return Verdict == Verdict.Faster ? 1 / worse : worse;
        }
    }
}

/// <summary>A configuration key whose value differs between the two sides (null: absent on that side).</summary>
/// <param name="Runs">For sweeps, how many matched runs differ in this key; 1 for two runs.</param>
public sealed record ConfigDifference(string Key, string? Baseline, string? Current, int Runs = 1);

/// <summary>Rules for <see cref="ResultComparer"/>.</summary>
public sealed record ComparisonOptions
{
    /// <summary>
    /// Relative tolerance for deterministic simulated figures (0.05 = 5%); null compares them exactly,
    /// which is the default because they are model outputs for a fixed seed.
    /// </summary>
    public double? DeterministicThreshold { get; init; }

    /// <summary>Relative change of the medians that a significant difference must exceed (0.05 = 5%).</summary>
    public double StatisticalThreshold { get; init; } = 0.05;

    /// <summary>Absolute difference of median times (ns) below which BDN timings are Same, however significant.</summary>
    public double NoiseFloorNs { get; init; } = 1;

    /// <summary>Significance level of the two-sided Mann–Whitney test.</summary>
    public double Alpha { get; init; } = 0.05;

    /// <summary>Minimum samples per side for a statistical verdict; fewer gives Inconclusive.</summary>
    public int MinSamples { get; init; } = 3;

    /// <summary>Metric names or globs (<c>*</c>, <c>?</c>) to compare, e.g. <c>counters.*</c>; null or empty compares all.</summary>
    public IReadOnlyList<string>? Metrics { get; init; }

    /// <summary>What callers call <see cref="Metrics"/> in messages: a CLI passes its option name (<c>--metric</c>).</summary>
    public string MetricsName { get; init; } = "metric filter";

    /// <summary>
    /// Accept rows present on one side only. Off by default: a benchmark, run or metric that went
    /// missing fails the comparison, since nothing was compared for it.
    /// </summary>
    public bool AllowMissing { get; init; }

    /// <summary>Renderers omit rows whose verdict is <see cref="Verdict.Same"/>.</summary>
    public bool OnlyChanged { get; init; }

    internal bool Selects(string metric) =>
        Metrics is not { Count: > 0 } || Metrics.Any(pattern => Glob.IsMatch(pattern, metric));
}

/// <summary>All rows of a comparison and the exit code they map to.</summary>
public sealed record ComparisonResult(string Kind, IReadOnlyList<ComparisonRow> Rows)
{
    /// <summary>Exit code for an unusable input (an <see cref="Input.InputException"/>).</summary>
    public const int UnusableInputExitCode = 2;

    /// <summary>Configuration keys that differ: the rows may then show the configuration, not the code.</summary>
    public IReadOnlyList<ConfigDifference> ConfigDifferences { get; init; } = [];

    /// <summary>Missing rows do not fail (<see cref="ComparisonOptions.AllowMissing"/>).</summary>
    public bool MissingAllowed { get; init; }

    public bool HasRegression => Rows.Any(r => r.Verdict is Verdict.Slower or Verdict.Changed);

    /// <summary>Rows present on one side only, and not allowed.</summary>
    public bool HasMissing => !MissingAllowed && Rows.Any(r => r.Verdict == Verdict.Missing);

    /// <summary>0 when nothing regressed or went missing, 1 otherwise.</summary>
    public int ExitCode => HasRegression || HasMissing ? 1 : 0;

    public int Count(Verdict verdict) => Rows.Count(r => r.Verdict == verdict);
}

/// <summary>Shell-style wildcard match: <c>*</c> any run of characters, <c>?</c> one character; ordinal.</summary>
internal static class Glob
{
    public static bool IsMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
