using System.Globalization;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Comparison;

/// <summary>
/// Compares a baseline with a current result: two run reports, two sweeps (runs matched by key)
/// or two BenchmarkDotNet full JSON reports (benchmarks matched by FullName).
/// <list type="bullet">
/// <item>Simulated counters and percentiles are deterministic: compared exactly, or within
/// <see cref="ComparisonOptions.DeterministicThreshold"/>.</item>
/// <item>Wall figures and BDN timings vary: Slower/Faster only when a two-sided Mann–Whitney test
/// is significant AND the median ratio exceeds the threshold AND the difference exceeds the noise
/// floor; fewer than <see cref="ComparisonOptions.MinSamples"/> per side is Inconclusive.</item>
/// <item>BDN allocated bytes per operation must not grow: any increase is Slower.</item>
/// </list>
/// </summary>
public static class ResultComparer
{
    // Counters that measure cost: fewer is better. Others (faults, mermap_gets, engine extras)
    // describe the workload, so a difference is reported as Changed.
    private static readonly HashSet<string> s_costCounters =
    [
        CounterNames.DmZaps, CounterNames.DmRestores, CounterNames.Level2Splits, CounterNames.Level3Splits,
        CounterNames.PtPages, CounterNames.FlushKernelRange, CounterNames.FlushAll, CounterNames.Ipis,
        CounterNames.Invlpg, CounterNames.TlbMisses, CounterNames.StaleTlbAccesses, CounterNames.MermapLocalFlushes,
        CounterNames.Oops, CounterNames.LeakedUnmappedFrames,
    ];

    /// <summary>Reads both files, detects their kind and compares them.</summary>
    public static ComparisonResult CompareFiles(string baselinePath, string currentPath, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using InputDocument baseline = JsonInput.LoadFile(baselinePath);
        using InputDocument current = JsonInput.LoadFile(currentPath);
        string baselineKind = DetectKind(baseline.Root);
        string currentKind = DetectKind(current.Root);
        if (baselineKind != currentKind)
        {
            throw InputException.At(current.Source, "$", $"a {currentKind}", $"the same kind of result as {baseline.Source} (a {baselineKind})");
        }

        return baselineKind switch
        {
            RunKind => Compare(ReportJson.Read(baseline.Root), ReportJson.Read(current.Root), options),
            SweepKind => Compare(SweepJson.Read(baseline.Root), SweepJson.Read(current.Root), options),
            _ => Compare(BdnReport.Read(baseline.Root), BdnReport.Read(current.Root), options),
        };
    }

    public static ComparisonResult Compare(RunReport baseline, RunReport current, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        return Finish(RunKind, CompareRuns("run", baseline, current, options), options, ConfigDifferences(baseline.Config, current.Config));
    }

    public static ComparisonResult Compare(SweepReport baseline, SweepReport current, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        var rows = new List<ComparisonRow>();
        var differences = new List<ConfigDifference>();
        var currentByKey = current.Runs.ToDictionary(r => r.Key, StringComparer.Ordinal);
        foreach (SweepRun run in baseline.Runs)
        {
            if (currentByKey.TryGetValue(run.Key, out SweepRun? match))
            {
                rows.AddRange(CompareRuns(run.Key, run.Report, match.Report, options));
                differences.AddRange(ConfigDifferences(run.Report.Config, match.Report.Config));
            }
            else
            {
                rows.Add(Missing(run.Key, NotInCurrent));
            }
        }

        var baselineKeys = baseline.Runs.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        rows.AddRange(current.Runs.Where(r => !baselineKeys.Contains(r.Key)).Select(r => Missing(r.Key, NotInBaseline)));
        // One line per key, with the first run's values as the example.
        ConfigDifference[] byKey = differences
            .GroupBy(d => d.Key, StringComparer.Ordinal)
            .Select(g => g.First() with { Runs = g.Count() })
            .ToArray();
        return Finish(SweepKind, rows, options, byKey);
    }

    public static ComparisonResult Compare(BdnReport baseline, BdnReport current, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        var rows = new List<ComparisonRow>();
        var currentByName = current.Benchmarks.ToDictionary(b => b.FullName, StringComparer.Ordinal);
        foreach (BdnBenchmark before in baseline.Benchmarks)
        {
            if (!currentByName.TryGetValue(before.FullName, out BdnBenchmark? after))
            {
                rows.Add(Missing(before.FullName, NotInCurrent));
                continue;
            }

            rows.Add(Statistical(before.FullName, "time", before.OriginalValuesNs, after.OriginalValuesNs, Direction.LowerIsBetter, options.NoiseFloorNs, options) with { Unit = "ns" });
            if (before.BytesAllocatedPerOperation is long b && after.BytesAllocatedPerOperation is long c)
            {
                // Allocations are deterministic per operation, so any growth is a regression.
                Verdict verdict = c > b ? Verdict.Slower : c < b ? Verdict.Faster : Verdict.Same;
                rows.Add(new ComparisonRow(before.FullName, "allocated", b, c, Ratio(b, c), verdict) { Unit = "B/op", Direction = Direction.LowerIsBetter });
            }
        }

        var baselineNames = baseline.Benchmarks.Select(b => b.FullName).ToHashSet(StringComparer.Ordinal);
        rows.AddRange(current.Benchmarks.Where(b => !baselineNames.Contains(b.FullName)).Select(b => Missing(b.FullName, NotInBaseline)));
        return Finish(BdnKind, rows, options);
    }

    /// <summary>
    /// The whole <c>compare</c> command: prints the table and a summary to <paramref name="output"/>
    /// and returns 0 (nothing regressed), 1 (a regression) or 2 (unusable input, message on <paramref name="error"/>).
    /// </summary>
    public static int Run(string baselinePath, string currentPath, ComparisonOptions options, TextWriter output, TextWriter error, bool markdown = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ComparisonResult result;
        try
        {
            result = CompareFiles(baselinePath, currentPath, options);
        }
        catch (InputException ex)
        {
            error.WriteLine(ex.Message);
            return ComparisonResult.UnusableInputExitCode;
        }

        output.Write(markdown ? ComparisonRenderer.Markdown(result, options.OnlyChanged) : ComparisonRenderer.Text(result, options.OnlyChanged));
        return result.ExitCode;
    }

    /// <summary>Compares two samples with the statistical rule; public so other harnesses gate the same way.</summary>
    public static ComparisonRow Statistical(
        string name, string metric, IReadOnlyList<double> baseline, IReadOnlyList<double> current, Direction direction, double noiseFloor, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        double before = Median(baseline);
        double after = Median(current);
        if (baseline.Count < options.MinSamples || current.Count < options.MinSamples)
        {
            return new ComparisonRow(name, metric, before, after, Ratio(before, after), Verdict.Inconclusive,
                string.Create(CultureInfo.InvariantCulture, $"n={baseline.Count}/{current.Count}, needs {options.MinSamples} per side"))
            { Direction = direction };
        }

        MannWhitneyResult test = MannWhitney.Test(baseline, current);
        double ratio = Ratio(before, after);
        bool significant = test.PValue < options.Alpha;
        bool beyondThreshold = Math.Abs(after - before) > options.StatisticalThreshold * Math.Abs(before);
        bool aboveNoise = Math.Abs(after - before) > noiseFloor;
        Verdict verdict = significant && beyondThreshold && aboveNoise ? Directional(before, after, direction) : Verdict.Same;
        string note = string.Create(CultureInfo.InvariantCulture, $"p={test.PValue:F4}, n={baseline.Count}/{current.Count}");
        return new ComparisonRow(name, metric, before, after, ratio, verdict, note) { Direction = direction };
    }

    internal const string RunKind = "PerfSim run report";
    internal const string SweepKind = "PerfSim sweep";
    internal const string BdnKind = "BenchmarkDotNet full report";

    private static string DetectKind(InputElement root)
    {
        InputObject obj = root.AsOpenObject();
        if (obj.Optional("schema") is { } schema)
        {
            return schema.AsOneOf(RunReport.SchemaVersion, SweepReport.SchemaVersion) == RunReport.SchemaVersion ? RunKind : SweepKind;
        }

        return obj.Has("Benchmarks")
            ? BdnKind
            : throw root.Error($"a PerfSim report (\"schema\": \"{RunReport.SchemaVersion}\"), a sweep (\"{SweepReport.SchemaVersion}\") or a BenchmarkDotNet full JSON report (\"Benchmarks\")");
    }

    private static List<ComparisonRow> CompareRuns(string name, RunReport baseline, RunReport current, ComparisonOptions options)
    {
        var rows = new List<ComparisonRow>();
        void Exact(string metric, double before, double after, Direction direction, string unit = "") =>
            rows.Add(Deterministic(name, metric, before, after, direction, options) with { Unit = unit });

        foreach (string counter in baseline.Counters.Keys.Union(current.Counters.Keys))
        {
            Direction direction = s_costCounters.Contains(counter) ? Direction.LowerIsBetter : Direction.None;
            if (baseline.Counters.TryGetValue(counter, out long before) && current.Counters.TryGetValue(counter, out long after))
            {
                Exact($"counters.{counter}", before, after, direction);
            }
            else
            {
                rows.Add(Missing(name, baseline.Counters.ContainsKey(counter) ? NotInCurrent : NotInBaseline, $"counters.{counter}"));
            }
        }

        foreach ((string operation, LatencySummary before) in baseline.LatencyNs)
        {
            if (!current.LatencyNs.TryGetValue(operation, out LatencySummary? after))
            {
                rows.Add(Missing(name, NotInCurrent, $"latency_ns.{operation}"));
                continue;
            }

            string prefix = $"latency_ns.{operation}.";
            Exact(prefix + "count", before.Count, after.Count, Direction.None, "samples");
            Exact(prefix + "p50", before.P50, after.P50, Direction.LowerIsBetter, "ns");
            Exact(prefix + "p90", before.P90, after.P90, Direction.LowerIsBetter, "ns");
            Exact(prefix + "p99", before.P99, after.P99, Direction.LowerIsBetter, "ns");
            Exact(prefix + "p999", before.P999, after.P999, Direction.LowerIsBetter, "ns");
            Exact(prefix + "max", before.Max, after.Max, Direction.LowerIsBetter, "ns");
            Exact(prefix + "mean", before.Mean, after.Mean, Direction.LowerIsBetter, "ns");
        }

        Exact("sim.elapsed_ns", baseline.Sim.ElapsedNs, current.Sim.ElapsedNs, Direction.LowerIsBetter, "ns");
        Exact("sim.faults_per_sim_second", baseline.Sim.FaultsPerSimSecond, current.Sim.FaultsPerSimSecond, Direction.HigherIsBetter, "faults/s");
        Exact("sim.populate_bytes_per_sim_second", baseline.Sim.PopulateBytesPerSimSecond, current.Sim.PopulateBytesPerSimSecond, Direction.HigherIsBetter, "B/s");
        // A fragmented direct map (more 4K, less 1G) costs TLB reach; 2M alone has no better direction.
        Exact("direct_map.after.DirectMap4k", baseline.DirectMap.After.DirectMap4k, current.DirectMap.After.DirectMap4k, Direction.LowerIsBetter, "kB");
        Exact("direct_map.after.DirectMap2M", baseline.DirectMap.After.DirectMap2M, current.DirectMap.After.DirectMap2M, Direction.None, "kB");
        Exact("direct_map.after.DirectMap1G", baseline.DirectMap.After.DirectMap1G, current.DirectMap.After.DirectMap1G, Direction.HigherIsBetter, "kB");
        if (baseline.Exposure is { } be && current.Exposure is { } ce)
        {
            Exact("exposure.stale_cpu_entries", be.StaleCpuEntries, ce.StaleCpuEntries, Direction.LowerIsBetter, "entries");
            Exact("exposure.mean_window_ns", be.MeanWindowNs, ce.MeanWindowNs, Direction.LowerIsBetter, "ns");
            Exact("exposure.max_window_ns", be.MaxWindowNs, ce.MaxWindowNs, Direction.LowerIsBetter, "ns");
        }

        Exact("violations", baseline.Violations?.Count ?? 0, current.Violations?.Count ?? 0, Direction.LowerIsBetter, "violations");
        if (options.DeterministicThreshold is null)
        {
            // In exact mode the digest catches model changes that no summarised figure shows.
            bool same = string.Equals(baseline.Digest, current.Digest, StringComparison.Ordinal);
            rows.Add(new ComparisonRow(name, "digest", double.NaN, double.NaN, double.NaN, same ? Verdict.Same : Verdict.Changed,
                same ? "" : $"{baseline.Digest} -> {current.Digest}"));
        }

        // Wall figures measure the host: only repeated samples can show a real change.
        rows.Add(Statistical(
            name, "wall.faults_per_wall_second",
            baseline.Wall.FaultsPerWallSecondSamples ?? [baseline.Wall.FaultsPerWallSecond],
            current.Wall.FaultsPerWallSecondSamples ?? [current.Wall.FaultsPerWallSecond],
            Direction.HigherIsBetter, noiseFloor: 0, options) with { Unit = "faults/s" });
        return rows;
    }

    private static ComparisonRow Deterministic(string name, string metric, double before, double after, Direction direction, ComparisonOptions options)
    {
        double ratio = Ratio(before, after);
        bool same = options.DeterministicThreshold is double threshold
            ? Math.Abs(after - before) <= threshold * Math.Abs(before)
            : before == after;
        return new ComparisonRow(name, metric, before, after, ratio, same ? Verdict.Same : Directional(before, after, direction)) { Direction = direction };
    }

    /// <summary>Dotted configuration keys whose values differ, in baseline order, then keys only the current has.</summary>
    internal static IEnumerable<ConfigDifference> ConfigDifferences(System.Text.Json.Nodes.JsonObject baseline, System.Text.Json.Nodes.JsonObject current)
    {
        var before = Rendering.Markdown.FlattenConfig(baseline).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var after = Rendering.Markdown.FlattenConfig(current).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach ((string key, string value) in before)
        {
            string? other = after.GetValueOrDefault(key);
            if (!string.Equals(value, other, StringComparison.Ordinal))
            {
                yield return new ConfigDifference(key, value, other);
            }
        }

        foreach ((string key, string value) in after.Where(kv => !before.ContainsKey(kv.Key)))
        {
            yield return new ConfigDifference(key, null, value);
        }
    }

    private static Verdict Directional(double before, double after, Direction direction) => direction switch
    {
        _ when before == after => Verdict.Same,
        Direction.LowerIsBetter => after > before ? Verdict.Slower : Verdict.Faster,
        Direction.HigherIsBetter => after < before ? Verdict.Slower : Verdict.Faster,
        _ => Verdict.Changed,
    };

    private const string NotInCurrent = "not in current";
    private const string NotInBaseline = "not in baseline";

    private static ComparisonRow Missing(string name, string note, string metric = "*") =>
        new(name, metric, double.NaN, double.NaN, double.NaN, Verdict.Missing, note);

    private static double Ratio(double before, double after) =>
        before == after ? 1 : before == 0 ? double.NaN : after / before;

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static ComparisonResult Finish(string kind, List<ComparisonRow> rows, ComparisonOptions options, IEnumerable<ConfigDifference>? differences = null)
    {
        if (options.Metrics is { Count: > 0 } patterns)
        {
            rows = rows.Where(r => r.Metric == "*" || options.Selects(r.Metric)).ToList();
            if (!rows.Any(r => r.Metric != "*"))
            {
                throw new InputException(
                    $"{options.MetricsName}: found no metric matching {string.Join(", ", patterns)}, expected names or globs such as counters.*, latency_ns.fault.p99, wall.*, time, allocated");
            }
        }

        // Nothing in common compares nothing: that is not a pass, whatever the options.
        if (!rows.Any(r => r.Verdict != Verdict.Missing))
        {
            int onlyBaseline = rows.Count(r => r.Note == NotInCurrent);
            int onlyCurrent = rows.Count(r => r.Note == NotInBaseline);
            string unit = kind switch { BdnKind => "benchmark", SweepKind => "run", _ => "metric" };
            throw new InputException(string.Create(CultureInfo.InvariantCulture,
                $"compare: found no {unit} in both inputs ({onlyBaseline} in the baseline only, {onlyCurrent} in the current only), expected at least one {unit} to compare"));
        }

        return new ComparisonResult(kind, rows)
        {
            ConfigDifferences = differences?.ToArray() ?? [],
            MissingAllowed = options.AllowMissing,
        };
    }
}
