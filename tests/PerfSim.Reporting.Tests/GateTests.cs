using System.Text.Json.Nodes;
using PerfSim.Reporting.Comparison;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Tests;

/// <summary>Inputs that compare and merge used to pass although nothing matched (issue 18, item 7).</summary>
public sealed class GateTests
{
    private static readonly ComparisonOptions s_defaults = new();

    private static string Bdn(params string[] names) =>
        "{ \"Benchmarks\": [" + string.Join(", ", names.Select(n => $$"""{ "FullName": "{{n}}", "Statistics": { "OriginalValues": [10, 11, 12] } }""")) + "] }";

    [Fact]
    public void Bdn_files_with_no_benchmark_in_common_are_refused()
    {
        BdnReport baseline = BdnReport.Parse(Bdn("A.X", "A.Y"));
        BdnReport current = BdnReport.Parse(Bdn("B.Z"));

        InputException e = Assert.Throws<InputException>(() => ResultComparer.Compare(baseline, current, s_defaults));
        Assert.Equal("compare: found no benchmark in both inputs (2 in the baseline only, 1 in the current only), expected at least one benchmark to compare", e.Message);
        // Allowing missing rows does not make comparing nothing a pass.
        Assert.Throws<InputException>(() => ResultComparer.Compare(baseline, current, s_defaults with { AllowMissing = true }));
    }

    [Fact]
    public void An_empty_Benchmarks_list_is_unusable_input()
    {
        InputException e = Assert.Throws<InputException>(() => BdnReport.Parse("""{ "Benchmarks": [] }"""));
        Assert.Equal("report-full.json: $.Benchmarks: found an array of 0 items, expected an array of at least 1 items", e.Message);
    }

    [Fact]
    public void A_benchmark_missing_on_one_side_fails_unless_allowed()
    {
        BdnReport baseline = BdnReport.Parse(Bdn("A.X", "A.Y"));
        BdnReport current = BdnReport.Parse(Bdn("A.X"));

        ComparisonResult strict = ResultComparer.Compare(baseline, current, s_defaults);
        ComparisonResult lenient = ResultComparer.Compare(baseline, current, s_defaults with { AllowMissing = true });

        Assert.False(strict.HasRegression);
        Assert.Equal(1, strict.ExitCode);
        Assert.EndsWith("MISSING ROWS (not compared, so not a pass)", ComparisonRenderer.Summary(strict), StringComparison.Ordinal);
        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains("Missing (allowed): 1 row", ComparisonRenderer.Text(lenient), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_with_missing_runs_fails_by_default()
    {
        SweepReport full = CannedSweep.Full();
        SweepReport partial = full with { Runs = full.Runs.Skip(1).ToArray() };

        Assert.Equal(1, ResultComparer.Compare(full, partial, s_defaults).ExitCode);
        Assert.Equal(0, ResultComparer.Compare(full, partial, s_defaults with { AllowMissing = true }).ExitCode);
    }

    [Fact]
    public void Sweeps_with_no_run_in_common_are_refused()
    {
        SweepReport full = CannedSweep.Full();
        InputException e = Assert.Throws<InputException>(() =>
            ResultComparer.Compare(full with { Runs = full.Runs.Take(2).ToArray() }, full with { Runs = full.Runs.Skip(2).ToArray() }, s_defaults));
        Assert.StartsWith("compare: found no run in both inputs (2 in the baseline only, 6 in the current only)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_refuses_shards_run_with_a_different_base_seed()
    {
        SweepReport[] shards = CannedSweep.Shards(2);
        shards[1] = shards[1] with { Runs = shards[1].Runs.Select(r => WithConfig(r, "seed", 43)).ToArray() };

        InputException e = Assert.Throws<InputException>(() => SweepMerge.Merge(shards, ["a.json", "b.json"]));
        Assert.Equal(
            "b.json: $.runs[0].report.config.seed: found 43 in run arch=x86_64,cpus=1,strategy=per-folio, expected the seed of every other run (42 in a.json run arch=x86_64,cpus=1,strategy=direct-map): shards of one sweep share their base seed",
            e.Message);
    }

    [Fact]
    public void Merge_accepts_different_seeds_when_the_matrix_varies_the_seed()
    {
        MatrixAxis[] matrix = [new("seed", ["1", "2"])];
        SweepRun[] runs = SweepKey.All(matrix).Select((key, i) => WithConfig(new SweepRun(key, i, Canned.Report()), "seed", i + 1)).ToArray();
        var sweep = new SweepReport { Matrix = matrix, Runs = runs };

        Assert.Equal(2, SweepMerge.Merge([sweep]).Runs.Count);
    }

    [Fact]
    public void Merge_refuses_a_run_whose_config_contradicts_its_key()
    {
        SweepReport[] shards = CannedSweep.Shards(2);
        SweepRun[] runs = [.. shards[0].Runs];
        runs[1] = WithConfig(runs[1], "cpus", 8);
        shards[0] = shards[0] with { Runs = runs };

        InputException e = Assert.Throws<InputException>(() => SweepMerge.Merge(shards, ["a.json", "b.json"]));
        Assert.Equal("a.json: $.runs[1].report.config.cpus: found 8 in run arch=x86_64,cpus=4,strategy=direct-map, expected the value of its key (cpus=4)", e.Message);
    }

    [Fact]
    public void Merge_compares_option_spellings_and_booleans_as_the_options_parse_them()
    {
        MatrixAxis[] matrix = [new("arch", ["x86-64"]), new("gbpages", ["on", "off"])];
        SweepRun[] runs = SweepKey.All(matrix).Select((key, i) =>
            WithConfig(WithConfig(new SweepRun(key, i, Canned.Report()), "arch", "x86_64"), "gbpages", i == 0)).ToArray();

        Assert.Equal(2, SweepMerge.Merge([new SweepReport { Matrix = matrix, Runs = runs }]).Runs.Count);
    }

    [Theory]
    [InlineData("x/../../EVIL")]
    [InlineData("..")]
    [InlineData("a\\b")]
    [InlineData("tab\there")]
    public void Reading_a_sweep_refuses_matrix_values_that_are_no_option_value(string value)
    {
        MatrixAxis[] matrix = [new("strategy", ["none", value])];
        SweepRun[] runs = SweepKey.All(matrix).Select((key, i) => new SweepRun(key, i, Canned.Report())).ToArray();
        string json = SweepJson.Serialize(new SweepReport { Matrix = matrix, Runs = runs });

        InputException e = Assert.Throws<InputException>(() => SweepJson.Parse(json, "shard.json"));
        Assert.StartsWith("shard.json: $.matrix.strategy[1]: found ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("expected a distinct value of letters, digits, ' ', '.', '_', '+', ':' and '-', without \"..\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_metric_filter_error_names_the_callers_option()
    {
        var options = new ComparisonOptions { Metrics = ["nothing.*"], MetricsName = "--metric" };
        InputException cli = Assert.Throws<InputException>(() => ResultComparer.Compare(Canned.Report(), Canned.Report(), options));
        InputException api = Assert.Throws<InputException>(() => ResultComparer.Compare(Canned.Report(), Canned.Report(), options with { MetricsName = "metrics" }));

        Assert.StartsWith("--metric: found no metric matching nothing.*", cli.Message, StringComparison.Ordinal);
        Assert.StartsWith("metrics: found no metric matching nothing.*", api.Message, StringComparison.Ordinal);
    }

    private static SweepRun WithConfig(SweepRun run, string key, JsonNode? value)
    {
        var config = (JsonObject)run.Report.Config.DeepClone();
        config[key] = value;
        return run with { Report = run.Report with { Config = config } };
    }
}
