using PerfSim.Reporting.Comparison;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Tests;

public sealed class ComparerTests
{
    private static readonly ComparisonOptions s_defaults = new();

    private static ComparisonRow Row(ComparisonResult result, string metric, string? name = null) =>
        result.Rows.Single(r => r.Metric == metric && (name is null || r.Name == name));

    [Fact]
    public void Identical_runs_compare_Same_and_exit_zero()
    {
        ComparisonResult result = ResultComparer.Compare(Canned.Report(), Canned.Report(), s_defaults);

        Assert.All(result.Rows.Where(r => !r.Metric.StartsWith("wall.", StringComparison.Ordinal)), r => Assert.Equal(Verdict.Same, r.Verdict));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void One_extra_ipi_is_a_regression_when_comparing_exactly()
    {
        ComparisonResult result = ResultComparer.Compare(Canned.Report(ipis: 1_024), Canned.Report(ipis: 1_025), s_defaults);

        ComparisonRow ipis = Row(result, "counters.ipis");
        Assert.Equal(Verdict.Slower, ipis.Verdict);
        Assert.Equal(1_025.0 / 1_024, ipis.Ratio);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void A_relative_threshold_tolerates_small_deterministic_changes()
    {
        var options = new ComparisonOptions { DeterministicThreshold = 0.05 };

        ComparisonResult within = ResultComparer.Compare(Canned.Report(faultP99: 12_500), Canned.Report(faultP99: 13_000), options);
        ComparisonResult beyond = ResultComparer.Compare(Canned.Report(faultP99: 12_500), Canned.Report(faultP99: 13_200), options);

        Assert.Equal(Verdict.Same, Row(within, "latency_ns.fault.p99").Verdict);
        Assert.Equal(0, within.ExitCode);
        Assert.Equal(Verdict.Slower, Row(beyond, "latency_ns.fault.p99").Verdict);
        Assert.Equal(Verdict.Faster, Row(ResultComparer.Compare(Canned.Report(faultP99: 13_200), Canned.Report(faultP99: 12_500), options), "latency_ns.fault.p99").Verdict);
    }

    [Fact]
    public void Workload_counters_without_a_direction_are_Changed()
    {
        ComparisonResult result = ResultComparer.Compare(Canned.Report(faults: 1_000), Canned.Report(faults: 900), s_defaults);

        Assert.Equal(Verdict.Changed, Row(result, "counters.faults").Verdict);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void Digest_is_compared_in_exact_mode_only()
    {
        RunReport changed = Canned.Report() with { Digest = "sha256:ffffff" };

        Assert.Equal(Verdict.Changed, Row(ResultComparer.Compare(Canned.Report(), changed, s_defaults), "digest").Verdict);
        Assert.DoesNotContain(ResultComparer.Compare(Canned.Report(), changed, new ComparisonOptions { DeterministicThreshold = 0.01 }).Rows, r => r.Metric == "digest");
    }

    [Fact]
    public void A_single_wall_measurement_is_never_gated()
    {
        RunReport fast = Canned.Report();
        RunReport slow = fast with { Wall = fast.Wall with { FaultsPerWallSecond = fast.Wall.FaultsPerWallSecond / 10 } };

        ComparisonRow wall = Row(ResultComparer.Compare(fast, slow, s_defaults), "wall.faults_per_wall_second");

        Assert.Equal(Verdict.Inconclusive, wall.Verdict);
        Assert.Contains("n=1/1", wall.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_wall_samples_that_clearly_drop_are_Slower()
    {
        RunReport baseline = Canned.Report(wallSamples: [1000, 1010, 990, 1005, 995]);
        RunReport current = Canned.Report(wallSamples: [800, 810, 790, 805, 795]);

        ComparisonResult result = ResultComparer.Compare(baseline, current, s_defaults);

        Assert.Equal(Verdict.Slower, Row(result, "wall.faults_per_wall_second").Verdict);
        Assert.Equal(0.8, Row(result, "wall.faults_per_wall_second").Ratio, precision: 12);
        Assert.Equal(1, result.ExitCode);
    }

    [Theory]
    [InlineData(new double[] { 100, 101, 102, 103, 104 }, new double[] { 120, 121, 122, 123, 124 }, Verdict.Slower)]
    [InlineData(new double[] { 120, 121, 122, 123, 124 }, new double[] { 100, 101, 102, 103, 104 }, Verdict.Faster)]
    [InlineData(new double[] { 100, 100, 100 }, new double[] { 100, 100, 100 }, Verdict.Same)]
    // Significant (p = 0.008) but the medians differ by 4%, under the 5% threshold.
    [InlineData(new double[] { 100, 101, 102, 103, 104 }, new double[] { 105, 105.5, 106, 106.5, 107 }, Verdict.Same)]
    // 20% apart but overlapping: not significant.
    [InlineData(new double[] { 100, 140, 90, 130, 95 }, new double[] { 120, 85, 150, 125, 92 }, Verdict.Same)]
    // Three against three can never reach p < 0.05 (the minimum two-sided p is 0.1).
    [InlineData(new double[] { 100, 101, 102 }, new double[] { 200, 201, 202 }, Verdict.Same)]
    [InlineData(new double[] { 100, 101 }, new double[] { 200, 201, 202 }, Verdict.Inconclusive)]
    public void Statistical_rule_needs_significance_threshold_and_enough_samples(double[] baseline, double[] current, Verdict expected)
    {
        ComparisonRow row = ResultComparer.Statistical("b", "time", baseline, current, Direction.LowerIsBetter, noiseFloor: 1, s_defaults);

        Assert.Equal(expected, row.Verdict);
    }

    [Fact]
    public void Differences_below_the_noise_floor_are_Same()
    {
        ComparisonRow row = ResultComparer.Statistical("b", "time", [0.10, 0.11, 0.12, 0.10, 0.11], [0.50, 0.51, 0.52, 0.50, 0.51], Direction.LowerIsBetter, noiseFloor: 1, s_defaults);

        Assert.Equal(Verdict.Same, row.Verdict);
        Assert.Equal(Verdict.Slower, ResultComparer.Statistical("b", "time", [0.10, 0.11, 0.12, 0.10, 0.11], [0.50, 0.51, 0.52, 0.50, 0.51], Direction.LowerIsBetter, noiseFloor: 0.1, s_defaults).Verdict);
    }

    [Fact]
    public void Metric_filter_keeps_only_matching_metrics()
    {
        var options = new ComparisonOptions { Metrics = ["counters.ipis", "latency_ns.*.p99"] };

        ComparisonResult result = ResultComparer.Compare(Canned.Report(), Canned.Report(faults: 1), options);

        Assert.Equal(["counters.ipis", "latency_ns.fault.p99", "latency_ns.populate_page.p99"], result.Rows.Select(r => r.Metric));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void Metric_filter_that_matches_nothing_is_unusable_input()
    {
        var options = new ComparisonOptions { Metrics = ["counter.ipis"] };

        InputException ex = Assert.Throws<InputException>(() => ResultComparer.Compare(Canned.Report(), Canned.Report(), options));

        Assert.StartsWith("metric filter: found no metric matching counter.ipis", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweeps_match_runs_by_key_and_report_missing_runs()
    {
        SweepReport baseline = CannedSweep.Full();
        SweepRun[] runs = baseline.Runs.ToArray();
        runs[7] = runs[7] with { Report = Canned.Report(faultP99: 99_999, faultP50: 1_000 + (40L * 64), ipis: 6_400, strategy: "per-folio", cpus: 64, populateBytesPerSecond: 32e9) };
        SweepReport current = baseline with { Runs = runs.Where(r => r.Ordinal != 0).ToArray() };

        ComparisonResult result = ResultComparer.Compare(baseline, current, s_defaults);

        Assert.Equal(Verdict.Missing, Row(result, "*", "arch=x86_64,cpus=1,strategy=direct-map").Verdict);
        Assert.Equal(Verdict.Slower, Row(result, "latency_ns.fault.p99", "arch=x86_64,cpus=64,strategy=per-folio").Verdict);
        Assert.Equal(Verdict.Same, Row(result, "latency_ns.fault.p99", "arch=x86_64,cpus=16,strategy=per-folio").Verdict);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void Bdn_reader_takes_full_names_samples_and_allocations_from_the_full_json()
    {
        BdnReport report = BdnReport.ReadFile(Canned.DataPath("bdn-baseline-report-full.json"));

        Assert.Equal(4, report.Benchmarks.Count);
        BdnBenchmark range = report.Benchmarks[1];
        Assert.Equal("PerfSim.Benchmarks.Tlb.FlushBenchmarks.RangeFlush(Pages=512)", range.FullName);
        Assert.Equal([310.5, 312.0, 309.8, 311.2, 310.9], range.OriginalValuesNs);
        Assert.Equal(40, range.BytesAllocatedPerOperation);
    }

    [Fact]
    public void Bdn_comparison_flags_slower_time_grown_allocations_and_missing_benchmarks()
    {
        ComparisonResult result = ResultComparer.CompareFiles(
            Canned.DataPath("bdn-baseline-report-full.json"), Canned.DataPath("bdn-current-report-full.json"), s_defaults);

        const string Prefix = "PerfSim.Benchmarks.Tlb.FlushBenchmarks.";
        Assert.Equal(ResultComparer.BdnKind, result.Kind);
        Assert.Equal(Verdict.Same, Row(result, "time", Prefix + "PerPageFlush(Pages=512)").Verdict);
        Assert.Equal(Verdict.Slower, Row(result, "time", Prefix + "RangeFlush(Pages=512)").Verdict);
        Assert.Equal(Verdict.Same, Row(result, "allocated", Prefix + "RangeFlush(Pages=512)").Verdict);
        Assert.Equal(Verdict.Same, Row(result, "time", Prefix + "FullFlush(Pages=512)").Verdict);
        ComparisonRow allocated = Row(result, "allocated", Prefix + "FullFlush(Pages=512)");
        Assert.Equal((Verdict.Slower, 0.0, 32.0), (allocated.Verdict, allocated.Baseline, allocated.Current));
        Assert.Equal("not in current", Row(result, "*", Prefix + "BatchedFlush(Pages=512)").Note);
        Assert.Equal("not in baseline", Row(result, "*", Prefix + "NewFlush(Pages=512)").Note);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void Bdn_benchmark_without_statistics_is_inconclusive()
    {
        const string Json = """{ "Benchmarks": [ { "FullName": "A.B", "Statistics": null, "Memory": null } ] }""";

        ComparisonResult result = ResultComparer.Compare(BdnReport.Parse(Json), BdnReport.Parse(Json), s_defaults);

        Assert.Equal(Verdict.Inconclusive, Assert.Single(result.Rows).Verdict);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void Bdn_reader_rejects_bad_samples_and_duplicate_names()
    {
        InputException negative = Assert.Throws<InputException>(() => BdnReport.Parse("""{ "Benchmarks": [ { "FullName": "A", "Statistics": { "OriginalValues": [1, -2] } } ] }"""));
        InputException duplicate = Assert.Throws<InputException>(() => BdnReport.Parse("""{ "Benchmarks": [ { "FullName": "A" }, { "FullName": "A" } ] }"""));

        Assert.Equal("report-full.json: $.Benchmarks[0].Statistics.OriginalValues[1]: found -2, expected a finite non-negative number", negative.Message);
        Assert.StartsWith("report-full.json: $.Benchmarks[1].FullName: found \"A\" (a string), expected a FullName not used", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_maps_outcomes_to_exit_codes_and_prints_input_errors_on_one_line()
    {
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-compare-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string baseline = Path.Combine(directory, "base.json");
            string same = Path.Combine(directory, "same.json");
            string worse = Path.Combine(directory, "worse.json");
            string sweep = Path.Combine(directory, "sweep.json");
            File.WriteAllText(baseline, ReportJson.Serialize(Canned.Report()));
            File.WriteAllText(same, ReportJson.Serialize(Canned.Report()));
            File.WriteAllText(worse, ReportJson.Serialize(Canned.Report(ipis: 5_000)));
            File.WriteAllText(sweep, SweepJson.Serialize(CannedSweep.Full()));
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.Equal(0, ResultComparer.Run(baseline, same, s_defaults, output, error));
            Assert.Equal(1, ResultComparer.Run(baseline, worse, s_defaults, output, error));
            Assert.Equal(2, ResultComparer.Run(baseline, Path.Combine(directory, "absent.json"), s_defaults, output, error));
            Assert.Equal(2, ResultComparer.Run(baseline, sweep, s_defaults, output, error));

            string[] errors = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, errors.Length);
            Assert.EndsWith("absent.json: file not found", errors[0], StringComparison.Ordinal);
            Assert.EndsWith("sweep.json: $: found a PerfSim sweep, expected the same kind of result as " + baseline + " (a PerfSim run report)", errors[1], StringComparison.Ordinal);
            Assert.Contains("REGRESSION", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Text_is_ResultsComparer_style_tables_per_verdict_sorted_by_factor_with_units()
    {
        using IDisposable culture = TestCultures.UseCommaDecimal();
        // ipis 4x worse, p99 2x worse, population throughput halved (higher is better: 2x worse), p50 faster.
        ComparisonResult result = ResultComparer.Compare(
            Canned.Report(),
            Canned.Report(ipis: 4_096, faultP50: 925, faultP99: 25_000, populateBytesPerSecond: 2.25e9),
            new ComparisonOptions { Metrics = ["counters.ipis", "counters.flush_all", "latency_ns.fault.p50", "latency_ns.fault.p99", "sim.populate_bytes_per_sim_second"] });

        Assert.Equal(
            """
            Slower: 3 rows, geomean 2.52x slower
            name  metric                             factor    baseline     current  unit  note
            ----  ---------------------------------  ------  ----------  ----------  ----  ----
            run   counters.ipis                       4.00x        1024        4096
            run   latency_ns.fault.p99                2.00x       12500       25000  ns
            run   sim.populate_bytes_per_sim_second   2.00x  4500000000  2250000000  B/s

            Faster: 1 row, geomean 2.00x faster
            name  metric                factor  baseline  current  unit  note
            ----  --------------------  ------  --------  -------  ----  ----
            run   latency_ns.fault.p50   2.00x      1850      925  ns

            Same: 1 row
            name  metric              baseline  current  ratio  unit  note
            ----  ------------------  --------  -------  -----  ----  ----
            run   counters.flush_all         8        8  1.000

            5 rows: 3 slower, 0 changed, 1 faster, 1 same, 0 inconclusive, 0 missing; REGRESSION

            """.ReplaceLineEndings("\n"),
            ComparisonRenderer.Text(result));

        string onlyChanged = ComparisonRenderer.Text(result, onlyChanged: true);
        Assert.DoesNotContain("counters.flush_all", onlyChanged, StringComparison.Ordinal);
        Assert.EndsWith("1 same (same rows not shown), 0 inconclusive, 0 missing; REGRESSION\n", onlyChanged, StringComparison.Ordinal);

        string markdown = ComparisonRenderer.Markdown(result);
        Assert.Contains("## Slower: 3 rows, geomean 2.52x slower\n\n| name | metric | factor | baseline | current | unit | note |", markdown, StringComparison.Ordinal);
        Assert.Contains("| run | counters.ipis | 4.00x | 1024 | 4096 |  |  |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Numbers_never_use_E_notation()
    {
        var row = new ComparisonRow("b", "time", 1_516_350.25, 2.5e-7, 1, Verdict.Same) { Unit = "ns" };
        string text = ComparisonRenderer.Text(new ComparisonResult("k", [row]));

        Assert.Contains("1516350.3", text, StringComparison.Ordinal);
        Assert.DoesNotContain("E+", text, StringComparison.Ordinal);
        Assert.DoesNotContain("E-", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_with_different_configurations_are_compared_with_a_warning_naming_the_keys()
    {
        ComparisonResult result = ResultComparer.Compare(Canned.Report(strategy: "per-folio"), Canned.Report(strategy: "filemap", cpus: 8), s_defaults);

        Assert.Equal([new ConfigDifference("cpus", "4", "8"), new ConfigDifference("strategy", "per-folio", "filemap")], result.ConfigDifferences);
        string warning = "WARNING: the configurations differ in 2 keys: cpus (4 -> 8); strategy (per-folio -> filemap). Differences below may come from the configuration, not from the code.";
        Assert.StartsWith(warning + "\n", ComparisonRenderer.Text(result), StringComparison.Ordinal);
        Assert.Contains("> **" + warning + "**", ComparisonRenderer.Markdown(result), StringComparison.Ordinal);
        Assert.Null(ComparisonRenderer.Warning(ResultComparer.Compare(Canned.Report(), Canned.Report(), s_defaults)));
    }

    [Fact]
    public void Sweep_configuration_differences_are_counted_per_key_over_the_runs()
    {
        SweepReport baseline = CannedSweep.Full();
        SweepReport current = baseline with
        {
            Runs = baseline.Runs.Select(r =>
            {
                var config = (System.Text.Json.Nodes.JsonObject)r.Report.Config.DeepClone();
                config["seed"] = 7;
                return r with { Report = r.Report with { Config = config } };
            }).ToArray(),
        };

        Assert.Equal([new ConfigDifference("seed", "42", "7", Runs: 8)], ResultComparer.Compare(baseline, current, s_defaults).ConfigDifferences);
    }

    [Theory]
    [InlineData("counters.*", "counters.ipis", true)]
    [InlineData("counters.*", "latency_ns.fault.p99", false)]
    [InlineData("latency_ns.*.p9?", "latency_ns.fault.p99", true)]
    [InlineData("latency_ns.*.p9?", "latency_ns.fault.p999", false)]
    [InlineData("*", "time", true)]
    [InlineData("time", "times", false)]
    public void Globs_match_whole_metric_names(string pattern, string metric, bool expected)
    {
        Assert.Equal(expected, new ComparisonOptions { Metrics = [pattern] }.Selects(metric));
    }
}
