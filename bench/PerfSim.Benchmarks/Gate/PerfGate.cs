using System.Globalization;
using PerfSim.Reporting.Comparison;

namespace PerfSim.Benchmarks.Gate;

/// <summary>What the gate checks after a run (all optional).</summary>
public sealed record GateOptions
{
    /// <summary><c>perf-reports/allocations.json</c>: fail when a benchmark allocates more.</summary>
    public string? AllocationsPath { get; init; }

    /// <summary>Rewrite <see cref="AllocationsPath"/> from this run instead of checking it.</summary>
    public bool UpdateAllocations { get; init; }

    /// <summary>A folder of committed <c>*-report-full.json</c> to compare wall-clock times with.</summary>
    public string? BaselineDirectory { get; init; }

    /// <summary>
    /// Relative slowdown of the median that fails the gate when Mann–Whitney also finds it
    /// significant (0.5 = 50% slower); null reports times without gating them. Off in CI: on the
    /// shared 2-core machine, back-to-back runs of unchanged code differ by more (README, Benchmarks).
    /// </summary>
    public double? TimeGate { get; init; }
}

/// <summary>
/// Judges BenchmarkDotNet full JSON reports: allocations strictly, wall-clock times statistically
/// against a committed baseline (reported; gated only with <see cref="GateOptions.TimeGate"/>).
/// </summary>
public static class PerfGate
{
    /// <summary>Threshold under which a significant time difference is reported as Same.</summary>
    public const double ReportThreshold = 0.05;

    /// <returns>0 when nothing regressed, 1 when something did, 2 for unusable input.</returns>
    public static int Run(GateOptions options, IReadOnlyList<string> resultFiles, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resultFiles);
        ArgumentNullException.ThrowIfNull(output);
        if (resultFiles.Count == 0)
        {
            output.WriteLine("perf gate: no *-report-full.json to judge");
            return 2;
        }

        bool failed = false;
        try
        {
            var reports = resultFiles.Order(StringComparer.Ordinal).Select(f => (File: f, Report: BdnReport.ReadFile(f))).ToList();
            if (options.BaselineDirectory is { } baselines)
            {
                failed |= CompareTimes(baselines, reports, options.TimeGate, output);
            }

            if (options.AllocationsPath is { } path)
            {
                failed |= options.UpdateAllocations
                    ? UpdateAllocations(path, reports.SelectMany(r => r.Report.Benchmarks), output)
                    : CheckAllocations(path, reports.SelectMany(r => r.Report.Benchmarks), output);
            }
        }
        catch (PerfSim.Reporting.Input.InputException e)
        {
            output.WriteLine($"perf gate: {e.Message}");
            return 2;
        }

        return failed ? 1 : 0;
    }

    private static bool CheckAllocations(string path, IEnumerable<BdnBenchmark> benchmarks, TextWriter output)
    {
        IReadOnlyList<AllocationFinding> findings = AllocationGate.Check(AllocationGate.ReadExpectations(path), benchmarks);
        output.WriteLine($"== allocations per operation vs {path}");
        foreach (AllocationFinding f in findings)
        {
            string figures = $"{f.Actual?.ToString(CultureInfo.InvariantCulture) ?? "-"} B/op (recorded {f.Expected?.ToString(CultureInfo.InvariantCulture) ?? "-"})";
            output.WriteLine($"{Label(f.Outcome),-5} {f.FullName}: {figures}{(f.Message.Length > 0 ? ": " + f.Message : "")}");
        }

        int failures = findings.Count(f => f.Outcome == GateOutcome.Failure);
        output.WriteLine($"allocation gate: {findings.Count(f => f.Outcome == GateOutcome.Ok)} ok, {findings.Count(f => f.Outcome == GateOutcome.Warning)} warnings, {failures} failures");
        if (failures > 0)
        {
            output.WriteLine("To accept new figures on purpose, rerun with --update-allocations and commit the file with the reason (README, Benchmarks).");
        }

        return failures > 0;
    }

    private static bool UpdateAllocations(string path, IEnumerable<BdnBenchmark> benchmarks, TextWriter output)
    {
        var existing = File.Exists(path) ? AllocationGate.ReadExpectations(path) : new Dictionary<string, AllocationExpectation>();
        File.WriteAllText(path, AllocationGate.Update(existing, benchmarks));
        output.WriteLine($"allocation gate: rewrote {path} from this run; review the diff before committing");
        return false;
    }

    private static bool CompareTimes(string baselineDirectory, List<(string File, BdnReport Report)> reports, double? timeGate, TextWriter output)
    {
        var options = new ComparisonOptions { StatisticalThreshold = ReportThreshold };
        var rows = new List<ComparisonRow>();
        foreach ((string file, BdnReport current) in reports)
        {
            string baselinePath = Path.Combine(baselineDirectory, Path.GetFileName(file));
            if (!File.Exists(baselinePath))
            {
                output.WriteLine($"time: no baseline {baselinePath}");
                continue;
            }

            rows.AddRange(ResultComparer.Compare(BdnReport.ReadFile(baselinePath), current, options).Rows.Where(r => r.Metric is "time" or "*"));
        }

        var result = new ComparisonResult("BenchmarkDotNet wall-clock time per operation", rows);
        output.WriteLine($"== wall-clock time vs {baselineDirectory} (Mann–Whitney, {ReportThreshold:P0} threshold; {(timeGate is double g ? $"gated beyond {g:P0}" : "reported, not gated")})");
        output.Write(ComparisonRenderer.Text(result));
        if (timeGate is not double gate)
        {
            output.WriteLine("(time verdicts are information only: not gated on shared machines; README, Benchmarks)");
            return false;
        }

        var slower = rows.Where(r => r.Verdict == Verdict.Slower && r.Ratio > 1 + gate).ToList();
        foreach (ComparisonRow r in slower)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FAIL  {r.Name}: {r.Ratio:F2}x slower ({r.Note}), beyond the {gate:P0} time gate"));
        }

        return slower.Count > 0;
    }

    private static string Label(GateOutcome outcome) => outcome switch
    {
        GateOutcome.Ok => "ok",
        GateOutcome.Warning => "WARN",
        _ => "FAIL",
    };
}
