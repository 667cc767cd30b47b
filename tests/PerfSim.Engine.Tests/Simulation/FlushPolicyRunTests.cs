using PerfSim.Core;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Tests.Simulation;

/// <summary>The flush_policy scenario field end to end: input edge, determinism, the price.</summary>
public sealed class FlushPolicyRunTests
{
    private static ScenarioConfig Small(string scenario, string policy) =>
        ScenarioFields.Set(new ScenarioConfig
        {
            Scenario = scenario,
            Strategy = Strategy.PerFolio,
            Cpus = 16,
            Vcpus = 4,
            RamBytes = 2 * PageGeometry.GiB,
            GuestMemoryBytes = 16 * PageGeometry.MiB,
            Vms = 2,
            Seed = 7,
        }, "flush-policy", policy, "--flush-policy");

    [Theory]
    [InlineData(ScenarioNames.GuestBoot, "batch:8")]
    [InlineData(ScenarioNames.GuestBoot, "batch:64")]
    [InlineData(ScenarioNames.VmChurn, "batch:34")]
    [InlineData(ScenarioNames.SnapshotRestore, "batch:16")]
    public void Batched_runs_are_clean_and_do_not_depend_on_host_threads(string scenario, string policy)
    {
        RunResult[] runs = [.. new[] { 1, 2, 4 }.Select(t => SimulationRun.Execute(Small(scenario, policy) with { Threads = t }))];

        Assert.All(runs, r => Assert.Equal(runs[0].Digest, r.Digest));
        Assert.All(runs, r => Assert.Equal(runs[0].ElapsedSimNs, r.ElapsedSimNs));
        Assert.Empty(runs[0].Violations);
        Assert.Equal(runs[0].Exposure.ZappedPages, runs[0].Counters.First(c => c.Key == "zapped_pages").Value);
    }

    [Fact]
    public void Batching_trades_ipis_for_longer_exposure_windows()
    {
        RunResult every = SimulationRun.Execute(Small(ScenarioNames.GuestBoot, "every"));
        RunResult batch = SimulationRun.Execute(Small(ScenarioNames.GuestBoot, "batch:16"));
        RunResult none = SimulationRun.Execute(Small(ScenarioNames.GuestBoot, "none"));
        long Ipis(RunResult r) => r.Counters.First(c => c.Key == "ipis").Value;

        Assert.True(Ipis(batch) < Ipis(every));
        Assert.True(batch.Exposure.MeanWindowNs > every.Exposure.MeanWindowNs);
        Assert.True(batch.ElapsedSimNs < every.ElapsedSimNs);
        Assert.Equal(0, none.Exposure.ZappedPages); // no flush closes a window
        Assert.NotEmpty(none.Violations);
        Assert.Empty(every.Violations);
    }

    [Theory]
    [InlineData("batch:1", "--flush-policy: 'batch:1' is not every, none or batch:N with N from 2 to 512")]
    [InlineData("sometimes", "--flush-policy: 'sometimes' is not every, none or batch:N with N from 2 to 512")]
    public void Bad_policies_are_one_line_errors(string policy, string message) =>
        Assert.Equal(message, Assert.Throws<InputException>(() => Small(ScenarioNames.GuestBoot, policy)).Message);

    [Fact]
    public void A_policy_for_a_design_or_arch_that_cannot_take_it_is_refused()
    {
        ScenarioConfig filemap = Small(ScenarioNames.GuestBoot, "batch:4") with { Strategy = Strategy.Filemap };
        ScenarioConfig arm64 = Small(ScenarioNames.GuestBoot, "none") with { Arch = Core.Arch.ArchKind.Arm64 };

        Assert.Contains("flush_policy batch:4 applies to the per-folio designs", Assert.Throws<InputException>(() => ScenarioFields.Validate(filemap, "options")).Message, StringComparison.Ordinal);
        Assert.Contains("x86 only", Assert.Throws<InputException>(() => ScenarioFields.Validate(arm64, "options")).Message, StringComparison.Ordinal);
    }
}

/// <summary>The stage2_fwb field at the input edge.</summary>
public sealed class Stage2FwbFieldTests
{
    [Fact]
    public void Arm64_without_stage2_fwb_refuses_a_no_direct_map_design_in_one_line()
    {
        var c = new ScenarioConfig { Arch = Core.Arch.ArchKind.Arm64, Strategy = Strategy.PerFolio };
        ScenarioConfig off = ScenarioFields.Set(c, "stage2-fwb", "off", "--stage2-fwb");

        string message = Assert.Throws<InputException>(() => ScenarioFields.Validate(off, "options")).Message;

        Assert.Equal("options: strategy per-folio needs guest_memfd NO_DIRECT_MAP, which arm64 refuses without FEAT_S2FWB (stage2_fwb off); set strategy to none or stage2_fwb to on", message);
        ScenarioConfig none = off with { Strategy = Strategy.None };
        Assert.Same(none, ScenarioFields.Validate(none, "options"));
        Assert.Contains("arm64 profiles only", Assert.Throws<InputException>(() => ScenarioFields.Validate(off with { Arch = Core.Arch.ArchKind.X86_64 }, "options")).Message, StringComparison.Ordinal);
    }
}
