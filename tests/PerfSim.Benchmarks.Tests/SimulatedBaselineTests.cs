using PerfSim.Reporting;
using PerfSim.Reporting.Comparison;

namespace PerfSim.Benchmarks.Tests;

/// <summary>The deterministic half of the performance gate (README, Benchmarks).</summary>
public sealed class SimulatedBaselineTests
{
    private static readonly string s_directory = RepoPaths.SimulatedBaselines;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (BaselineCase c in SimulatedBaselines.ReadCases(SimulatedBaselines.CasesFile(s_directory)))
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Fixed_seed_run_matches_its_committed_baseline_exactly(string name)
    {
        BaselineCase c = Find(name);
        RunReport current = SimulatedBaselines.Run(c);
        string path = c.BaselinePath(s_directory);
        if (Environment.GetEnvironmentVariable(SimulatedBaselines.UpdateVariable) == "1")
        {
            File.WriteAllText(path, ReportJson.Serialize(current));
            return;
        }

        Assert.True(File.Exists(path), $"{name}: no baseline {path}; create it on purpose with {SimulatedBaselines.UpdateVariable}=1 (README, Benchmarks)");
        IReadOnlyList<ComparisonRow> differences = SimulatedBaselines.Differences(ReportJson.ReadFile(path), current);
        Assert.True(differences.Count == 0, SimulatedBaselines.Explain(c, path, differences));
    }

    [Fact]
    public void Every_committed_baseline_has_a_case_and_names_are_unique()
    {
        var names = SimulatedBaselines.ReadCases(SimulatedBaselines.CasesFile(s_directory)).Select(c => c.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        var files = Directory.EnumerateFiles(s_directory, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(names.Order(StringComparer.Ordinal), files);
    }

    [Fact]
    public void Gate_fails_when_a_counter_differs_from_the_baseline()
    {
        BaselineCase c = Find(SimulatedBaselines.ReadCases(SimulatedBaselines.CasesFile(s_directory))[0].Name);
        RunReport baseline = ReportJson.ReadFile(c.BaselinePath(s_directory));

        // A deliberately regressed model: one more zap than the baseline (and so another digest).
        var counters = new OrderedDictionary<string, long>(baseline.Counters, StringComparer.Ordinal);
        counters[CounterNames.DmZaps]++;
        RunReport regressed = baseline with { Counters = counters, Digest = "0000000000000000" };

        IReadOnlyList<ComparisonRow> differences = SimulatedBaselines.Differences(baseline, regressed);
        Assert.Equal(["counters.dm_zaps", "digest"], differences.Select(d => d.Metric));
        Assert.Equal(Verdict.Slower, differences[0].Verdict);
        string message = SimulatedBaselines.Explain(c, "baseline.json", differences);
        Assert.Contains("counters.dm_zaps", message, StringComparison.Ordinal);
        Assert.Contains(SimulatedBaselines.UpdateVariable + "=1", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gate_fails_on_an_improvement_too_and_ignores_wall_figures()
    {
        BaselineCase c = Find(SimulatedBaselines.ReadCases(SimulatedBaselines.CasesFile(s_directory))[0].Name);
        RunReport baseline = ReportJson.ReadFile(c.BaselinePath(s_directory));
        var fewer = new OrderedDictionary<string, long>(baseline.Counters, StringComparer.Ordinal);
        fewer[CounterNames.Ipis]--;
        Assert.Equal(["counters.ipis"], SimulatedBaselines.Differences(baseline, baseline with { Counters = fewer }).Select(d => d.Metric));

        RunReport otherMachine = baseline with { Wall = baseline.Wall with { Seconds = 12.5, FaultsPerWallSecond = 1e6, Threads = 64 } };
        Assert.Empty(SimulatedBaselines.Differences(baseline, otherMachine));
    }

    private static BaselineCase Find(string name) =>
        SimulatedBaselines.ReadCases(SimulatedBaselines.CasesFile(s_directory)).Single(c => c.Name == name);
}
