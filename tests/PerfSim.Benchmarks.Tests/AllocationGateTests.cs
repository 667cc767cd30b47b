using System.Globalization;
using System.Text.Json.Nodes;
using PerfSim.Benchmarks.Gate;

namespace PerfSim.Benchmarks.Tests;

/// <summary>The BDN half of the gate, fed with synthetic BenchmarkDotNet full JSON reports.</summary>
public sealed class AllocationGateTests : IDisposable
{
    private const string HotPath = "PerfSim.Benchmarks.TlbBenchmarks.LookupHit";
    private const string Scenario = "PerfSim.Benchmarks.ScenarioBenchmarks.GuestBootPerFolio";

    private readonly string _dir = Directory.CreateTempSubdirectory("perfgate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Gate_fails_when_a_zero_allocation_hot_path_allocates_40_bytes()
    {
        string allocations = Write("allocations.json", """{ "benchmarks": { "PerfSim.Benchmarks.TlbBenchmarks.LookupHit": { "bytes": 0 } } }""");
        string result = Write("results/PerfSim.Benchmarks.TlbBenchmarks-report-full.json", Bdn((HotPath, 40, [5, 5, 5])));

        var output = new StringWriter();
        int exit = PerfGate.Run(new GateOptions { AllocationsPath = allocations }, [result], output);

        Assert.Equal(1, exit);
        Assert.Contains($"FAIL  {HotPath}: 40 B/op (recorded 0)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("0 ok, 0 warnings, 1 failures", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Gate_passes_at_or_below_the_recorded_figure_and_within_tolerance()
    {
        var expected = AllocationGate.ParseExpectations($$"""
            { "benchmarks": { "{{HotPath}}": { "bytes": 0 }, "{{Scenario}}": { "bytes": 100, "tolerance": 0.1 } } }
            """);
        Assert.All(AllocationGate.Check(expected, [new(HotPath, [], 0), new(Scenario, [], 110)]), f => Assert.Equal(GateOutcome.Ok, f.Outcome));
        Assert.Equal(GateOutcome.Failure, AllocationGate.Check(expected, [new(Scenario, [], 111)])[0].Outcome);
    }

    [Fact]
    public void Slack_absorbs_one_off_runtime_bytes_but_not_an_allocation_per_operation()
    {
        var expected = AllocationGate.ParseExpectations($$"""{ "benchmarks": { "{{HotPath}}": { "bytes": 0, "slack_bytes": 8 } } }""");
        Assert.Equal(GateOutcome.Ok, AllocationGate.Check(expected, [new(HotPath, [], 2)])[0].Outcome);
        Assert.Equal(GateOutcome.Failure, AllocationGate.Check(expected, [new(HotPath, [], 24)])[0].Outcome);
        Assert.Throws<PerfSim.Reporting.Input.InputException>(() => AllocationGate.ParseExpectations("""{ "benchmarks": { "A": { "bytes": 0, "slack_bytes": 24 } } }"""));
    }

    [Fact]
    public void A_benchmark_missing_from_the_file_or_without_figures_fails_and_warn_only_only_warns()
    {
        var expected = AllocationGate.ParseExpectations($$"""{ "benchmarks": { "{{Scenario}}": { "bytes": 13, "warn_only": true } } }""");
        IReadOnlyList<AllocationFinding> findings = AllocationGate.Check(expected, [new(HotPath, [], 0), new(Scenario, [], 20), new("X.NoDiagnoser", [], null)]);
        Assert.Equal([GateOutcome.Failure, GateOutcome.Warning, GateOutcome.Failure], findings.Select(f => f.Outcome));
        Assert.Contains("not in the allocations file", findings[0].Message, StringComparison.Ordinal);
        Assert.Contains("[MemoryDiagnoser]", findings[2].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_records_new_figures_and_keeps_tolerances_reasons_and_unrun_entries()
    {
        var existing = AllocationGate.ParseExpectations($$"""
            { "benchmarks": { "{{Scenario}}": { "bytes": 13, "tolerance": 0.25, "why": "lists per run" }, "Old.Benchmark": { "bytes": 0 } } }
            """);
        var updated = AllocationGate.ParseExpectations(AllocationGate.Update(existing, [new(Scenario, [], 16), new(HotPath, [], 0)]));
        Assert.Equal(new AllocationExpectation(16, 0.25, false, "lists per run"), updated[Scenario]);
        Assert.Equal(new AllocationExpectation(0), updated[HotPath]);
        Assert.True(updated.ContainsKey("Old.Benchmark"));
    }

    [Fact]
    public void Malformed_allocations_file_is_unusable_input()
    {
        string allocations = Write("allocations.json", """{ "benchmarks": { "A": { "bytes": -1 } } }""");
        string result = Write("r-report-full.json", Bdn((HotPath, 0, [1, 1, 1])));
        var output = new StringWriter();
        Assert.Equal(2, PerfGate.Run(new GateOptions { AllocationsPath = allocations }, [result], output));
        Assert.Contains("bytes", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Time_is_reported_not_gated_by_default_and_gated_only_beyond_the_threshold()
    {
        double[] before = [100, 101, 99, 100, 102, 98, 100, 101, 99];
        double[] twiceAsSlow = [.. before.Select(v => v * 2)];
        double[] fortyPercentSlower = [.. before.Select(v => v * 1.4)];
        string baselines = Path.Combine(_dir, "baseline");
        Write("baseline/T-report-full.json", Bdn((HotPath, 0, before)));
        string slow = Write("slow/T-report-full.json", Bdn((HotPath, 0, twiceAsSlow)));
        string slowish = Write("slowish/T-report-full.json", Bdn((HotPath, 0, fortyPercentSlower)));

        var reported = new StringWriter();
        Assert.Equal(0, PerfGate.Run(new GateOptions { BaselineDirectory = baselines }, [slow], reported));
        Assert.Contains("Slower", reported.ToString(), StringComparison.Ordinal);
        Assert.Contains("reported, not gated", reported.ToString(), StringComparison.Ordinal);

        Assert.Equal(1, PerfGate.Run(new GateOptions { BaselineDirectory = baselines, TimeGate = 0.5 }, [slow], new StringWriter()));
        Assert.Equal(0, PerfGate.Run(new GateOptions { BaselineDirectory = baselines, TimeGate = 0.5 }, [slowish], new StringWriter()));
    }

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The fields of a BDN full report the gate reads, in BDN's own names.</summary>
    private static string Bdn(params (string FullName, long Bytes, double[] Ns)[] benchmarks)
    {
        var array = new JsonArray();
        foreach ((string name, long bytes, double[] ns) in benchmarks)
        {
            array.Add(new JsonObject
            {
                ["FullName"] = name,
                ["Statistics"] = new JsonObject { ["OriginalValues"] = new JsonArray([.. ns.Select(v => (JsonNode)v)]) },
                ["Memory"] = new JsonObject { ["BytesAllocatedPerOperation"] = bytes, ["Gen0Collections"] = 0 },
            });
        }

        return new JsonObject { ["Title"] = "synthetic " + benchmarks.Length.ToString(CultureInfo.InvariantCulture), ["Benchmarks"] = array }.ToJsonString();
    }
}
