using System.Text.Json.Nodes;
using PerfSim.Benchmarks.Gate;
using PerfSim.Reporting.Input;

namespace PerfSim.Benchmarks.Tests;

/// <summary>The speed gate's comparison and file, fed with given ratios: no timing here.</summary>
public sealed class FloorRatioGateTests
{
    private static readonly FloorRatioBaseline s_recorded = new(Ratio: 0.05, Tolerance: 0.25, Why: "test", Recorded: []);

    [Fact]
    public void A_regressed_ratio_fails_and_one_within_the_tolerance_passes()
    {
        // The engine 30% slower against the same floor: below 0.05 * 0.75 = 0.0375.
        FloorRatioVerdict slower = FloorRatioGate.Check(s_recorded, Pairs(0.035, 0.034, 0.036));
        Assert.Equal(GateOutcome.Failure, slower.Outcome);
        Assert.Equal(0.0375, slower.Limit, 12);
        Assert.Contains("slower relative to the floor", slower.Message, StringComparison.Ordinal);

        Assert.Equal(GateOutcome.Ok, FloorRatioGate.Check(s_recorded, Pairs(0.04, 0.041, 0.039)).Outcome);
        Assert.Equal(GateOutcome.Failure, FloorRatioGate.Check(s_recorded, Pairs(0.0374, 0.0374, 0.0374)).Outcome);
    }

    [Fact]
    public void Machine_drift_cancels_in_the_ratio()
    {
        // A machine twice as slow slows both halves of every pair: the ratio, and the verdict, hold.
        var drifted = new List<RatioPair> { new(6e6, 0.3e6), new(7e6, 0.35e6), new(6.5e6, 0.325e6) };
        Assert.Equal(GateOutcome.Ok, FloorRatioGate.Check(s_recorded, drifted).Outcome);
    }

    [Fact]
    public void The_median_decides_so_one_disturbed_pair_does_not()
    {
        Assert.Equal(GateOutcome.Ok, FloorRatioGate.Check(s_recorded, Pairs(0.01, 0.05, 0.049, 0.051, 0.05)).Outcome);
        Assert.Equal(GateOutcome.Failure, FloorRatioGate.Check(s_recorded, Pairs(0.2, 0.03, 0.031, 0.029, 0.03)).Outcome);
        Assert.Equal(0.0305, FloorRatioGate.Median([0.03, 0.031, 0.029, 0.04]), 12);
    }

    [Fact]
    public void A_much_faster_engine_passes_and_asks_for_a_new_record()
    {
        FloorRatioVerdict faster = FloorRatioGate.Check(s_recorded, Pairs(0.5, 0.5, 0.5));
        Assert.Equal(GateOutcome.Ok, faster.Outcome);
        Assert.Contains("re-record with --update-floor-ratio", faster.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pairs_without_positive_finite_throughputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => FloorRatioGate.Check(s_recorded, []));
        Assert.Throws<ArgumentException>(() => FloorRatioGate.Check(s_recorded, [new RatioPair(0, 1e6)]));
        Assert.Throws<ArgumentException>(() => FloorRatioGate.Check(s_recorded, [new RatioPair(1e7, double.NaN)]));
    }

    [Fact]
    public void Update_records_the_median_and_keeps_the_tolerance_and_its_reason()
    {
        var existing = s_recorded with { Tolerance = 0.3, Why = "measured spread" };
        FloorRatioBaseline updated = FloorRatioGate.Parse(FloorRatioGate.Update(existing, Pairs(0.06, 0.07, 0.08), new DateTime(2026, 12, 2, 3, 0, 0, DateTimeKind.Utc), "2.00 1.90 1.80"));
        Assert.Equal(0.07, updated.Ratio, 12);
        Assert.Equal(0.3, updated.Tolerance);
        Assert.Equal("measured spread", updated.Why);
        Assert.Equal(3, updated.Recorded.Count);

        FloorRatioBaseline fresh = FloorRatioGate.Parse(FloorRatioGate.Update(null, Pairs(0.06), DateTime.UnixEpoch, "unknown"));
        Assert.Equal(FloorRatioGate.DefaultTolerance, fresh.Tolerance);
    }

    [Theory]
    [InlineData("engine", "\"perfsim run --guest-memory 1G\"", "$.engine")]
    [InlineData("floor", "\"FloorLoop page order\"", "$.floor")]
    [InlineData("tolerance", "0", "$.tolerance")]
    [InlineData("tolerance", "0.95", "$.tolerance")]
    [InlineData("ratio", "-1", "$.ratio")]
    [InlineData("why", "\"\"", "$.why")]
    [InlineData("surplus", "1", "surplus")]
    public void A_file_for_another_configuration_or_out_of_range_is_unusable_input(string field, string value, string named)
    {
        JsonObject file = JsonNode.Parse(FloorRatioGate.Update(s_recorded, Pairs(0.05), DateTime.UnixEpoch, "unknown"))!.AsObject();
        file[field] = JsonNode.Parse(value);
        InputException e = Assert.Throws<InputException>(() => FloorRatioGate.Parse(file.ToJsonString()));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_file_exits_2_before_anything_runs()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("floor-ratio-").FullName, "floor-ratio.json");
        File.WriteAllText(path, """{ "ratio": 0.05 }""");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(2, FloorRatioRun.Run(new FloorRatioOptions { Path = path, Perfsim = "/nonexistent" }, output, error));
        Assert.Empty(output.ToString());
        Assert.StartsWith("floor-ratio gate: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("$.engine", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void The_committed_ratio_is_for_the_gates_configuration_with_a_reason()
    {
        FloorRatioBaseline committed = FloorRatioGate.Read(RepoPaths.FloorRatio);
        Assert.InRange(committed.Recorded.Count, FloorRatioOptions.MinPairs, FloorRatioOptions.MaxPairs);
        // The file rounds the ratio and throughputs: equal to 0.1%.
        Assert.InRange(committed.Ratio / FloorRatioGate.Median([.. committed.Recorded.Select(p => p.Ratio)]), 0.999, 1.001);
        Assert.Contains("back-to-back", committed.Why, StringComparison.Ordinal);
    }

    private static List<RatioPair> Pairs(params double[] ratios) => [.. ratios.Select(r => new RatioPair(1e7, r * 1e7))];
}
