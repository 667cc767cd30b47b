using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

/// <summary>
/// Issue 19's quantum test: every quantum from 1 µs to 10 ms holds to the reference semantics
/// (docs/engine.md, "Quantum and fidelity"). The reference is the finest quantum, 1 µs (the least
/// <c>quantum_ns</c> accepts), with each weave done before the next close (weave depth 1): no whole
/// scenario runs on the immediate timeline, since <c>Simulator.RunPhase</c> always opens a
/// <see cref="QuantumSession"/> (<c>ImmediateEffects</c> serves single kernel steps and unit tests
/// only), and at 1 µs a quantum holds at most about one fault per CPU, so the weave sees nearly what
/// an immediate run would. The runs use the engine's default depth (2: a close waits for the weave
/// two quanta back), so the test bounds what the quantum and the depth move together.
/// </summary>
/// <remarks>
/// Every counter a run reports must be equal, except those that depend on how CPUs meet in time
/// (<see cref="s_timingDependent"/>) and, in vm-churn, on which frames come back
/// (<see cref="s_splitDependent"/>). Those, simulated time and the fault waits must stay within each
/// case's <see cref="Bounds"/>: the worst relative deviation from the reference measured over seeds
/// 1–12 at every quantum below and at depths 1 and 2, with a margin (about 1.5×). A bound is tight
/// enough that charging IPI handler time when a quantum closes, the defect issue 19 describes, fails
/// it (guest-boot at 100 µs–10 ms: contended <c>cpa_lock</c> acquisitions +115–224%, IPIs sent
/// +17–31%, mean fault wait +16–39%).
/// </remarks>
public sealed class QuantumFidelityTests
{
    private const long ReferenceQuantumNs = 1_000;

    /// <summary>The reference's quantum at the default depth, then every step of 1-2-5 to 10 ms: the
    /// four decades alone (10 µs, 100 µs, 1 ms, 10 ms) once made the bounds look tighter than the
    /// quantum keeps (secretmem-touch's contended acquisitions moved 2.8% there, 16% at 20 µs).</summary>
    private static readonly long[] s_quanta = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 10_000_000];

    /// <summary>Counters that depend on which CPU reached a lock or a call queue first, so on the
    /// interleaving the quantum moves (an IPI is sent only when the target's queue was empty; a
    /// woken CPU's state decides the wakeup kind).</summary>
    private static readonly HashSet<string> s_timingDependent =
    [
        "ipis", "ipi_vm_exits", "ipi_wakeups_poll", "ipi_wakeups_c1", "ipi_wakeups_c1e", "ipi_wakeups_c6",
        "cpa_lock_contended", "cpa_lock_wait_ns",
    ];

    /// <summary>What a 2 MiB split more or less changes: in vm-churn which freed frames a VM gets
    /// back depends on the interleaving, and so whether a new folio lands in a region already split.</summary>
    private static readonly HashSet<string> s_splitDependent =
    [
        "direct_map_level2_splits", "pt_pages", "flush_all", "full_flushes", "ipi_callbacks", "frames_free", "frames_page_table",
    ];

    /// <summary>Largest relative deviation from the 1 µs run allowed, per figure (0.01 = 1%). Mean
    /// fault wait is mean fault latency minus mean fault service (lock waits, interrupts, flush
    /// waits); p99 is a histogram bucket bound, buckets being 1/16 of an octave apart (6.25%).
    /// <paramref name="Splits"/>: how many 2 MiB splits more or fewer (0: the split-dependent
    /// counters must be equal too).</summary>
    public sealed record Bounds(double SimTime, double Ipis, double Contended, double CpaLockWait, double MeanLatency, double MeanWait, double P99Latency, int Splits = 0);

    private static ScenarioConfig Small(string scenario, Strategy strategy, ArchKind arch, long seed) => new()
    {
        Scenario = scenario,
        Strategy = strategy,
        Arch = arch,
        Cpus = 16,
        Vcpus = 8,
        RamBytes = 2 * PageGeometry.GiB,
        GuestMemoryBytes = 64 * PageGeometry.MiB,
        Pages = 2048,
        Seed = seed,
        Threads = 2,
    };

    // Measured worst case over seeds 1–12 and the quanta above, depth 1 / depth 2 (secretmem-touch
    // draws nothing from the seed: one value), then the bound:
    //   guest-boot x86      sim 0.36/0.32% ipis 0.90/1.29% contended 17.2/20.7% cpa wait 37.5/37.0% mean 0.29/0.29% wait 0.47/0.47% p99 3.6/3.6%
    //   guest-boot INVLPGB  sim 0.13/0.11% ipis 0          contended 15.4/14.0% cpa wait  5.4/5.8%  mean 0.19/0.17% wait 5.0/4.5%   p99 5.9/5.9%
    //   secretmem-touch     sim 0.80/0.91% ipis 7.5/8.0%   contended 16.1/18.9% cpa wait 13.3/11.1% mean 0.72/0.87% wait 0.93/1.12% p99 0/5.6%
    //   vm-churn per-folio  sim 0.59/0.59% ipis 2.73/2.66% contended 4.79/4.93% cpa wait 3.34/3.12% mean 0.22/0.22% wait 0.34/0.34% p99 3.3/3.3%, splits ±2
    private static readonly Dictionary<string, (ScenarioConfig Config, Bounds Bounds)> s_cases = new()
    {
        ["guest-boot per-folio x86, seed 1"] = (Small(ScenarioNames.GuestBoot, Strategy.PerFolio, ArchKind.X86_64, 1), BootX86),
        ["guest-boot per-folio x86, seed 2"] = (Small(ScenarioNames.GuestBoot, Strategy.PerFolio, ArchKind.X86_64, 2), BootX86),
        ["guest-boot per-folio x86 INVLPGB, seed 1"] = (Small(ScenarioNames.GuestBoot, Strategy.PerFolio, ArchKind.X86_64Invlpgb, 1),
            new Bounds(SimTime: 0.0025, Ipis: 0, Contended: 0.25, CpaLockWait: 0.10, MeanLatency: 0.003, MeanWait: 0.075, P99Latency: 0.13)),
        ["secretmem-touch none x86, 2048 pages"] = (Small(ScenarioNames.SecretmemTouch, Strategy.None, ArchKind.X86_64, 1),
            new Bounds(SimTime: 0.015, Ipis: 0.12, Contended: 0.30, CpaLockWait: 0.20, MeanLatency: 0.015, MeanWait: 0.02, P99Latency: 0.13)),
        ["vm-churn per-folio x86, seed 1"] = (Small(ScenarioNames.VmChurn, Strategy.PerFolio, ArchKind.X86_64, 1),
            new Bounds(SimTime: 0.009, Ipis: 0.04, Contended: 0.075, CpaLockWait: 0.05, MeanLatency: 0.0035, MeanWait: 0.005, P99Latency: 0.13, Splits: 3)),
    };

    private static Bounds BootX86 => new(SimTime: 0.005, Ipis: 0.02, Contended: 0.30, CpaLockWait: 0.50, MeanLatency: 0.005, MeanWait: 0.01, P99Latency: 0.13);

    public static TheoryData<string> CaseNames => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_quantum_from_1us_to_10ms_keeps_the_counts_of_the_reference_and_its_timing_within_bounds(string name)
    {
        (ScenarioConfig config, Bounds bounds) = s_cases[name];
        Assert.Equal(2, config.WeaveDepth);
        RunResult reference = SimulationRun.Execute(config with { QuantumNs = ReferenceQuantumNs, WeaveDepth = 1 });
        Assert.True(reference.Counter("cpa_lock_contended") > 100, $"{name}: too little contention to bound");

        foreach (long quantum in s_quanta)
        {
            RunResult run = SimulationRun.Execute(config with { QuantumNs = quantum });
            string at = $"{name}, quantum {quantum} ns";

            Assert.Equal(reference.Counters.Count, run.Counters.Count);
            for (int i = 0; i < reference.Counters.Count; i++)
            {
                (string counter, long expected) = reference.Counters[i];
                Assert.Equal(counter, run.Counters[i].Key);
                if (!s_timingDependent.Contains(counter) && (bounds.Splits == 0 || !s_splitDependent.Contains(counter)))
                {
                    Assert.True(expected == run.Counters[i].Value, $"{at}: {counter} {run.Counters[i].Value}, reference {expected}");
                }
            }

            long splits = run.Counter("direct_map_level2_splits") - reference.Counter("direct_map_level2_splits");
            Assert.True(Math.Abs(splits) <= bounds.Splits, $"{at}: {splits:+#;-#;0} 2 MiB splits against the reference, bound {bounds.Splits}");
            Assert.Equal(reference.FaultLatency.Count, run.FaultLatency.Count);
            Within(at, "simulated time", reference.ElapsedSimNs, run.ElapsedSimNs, bounds.SimTime);
            Within(at, "ipis", reference.Counter("ipis"), run.Counter("ipis"), bounds.Ipis);
            Within(at, "cpa_lock_contended", reference.Counter("cpa_lock_contended"), run.Counter("cpa_lock_contended"), bounds.Contended);
            Within(at, "cpa_lock_wait_ns", reference.Counter("cpa_lock_wait_ns"), run.Counter("cpa_lock_wait_ns"), bounds.CpaLockWait);
            Within(at, "mean fault latency", reference.FaultLatency.Mean, run.FaultLatency.Mean, bounds.MeanLatency);
            Within(at, "mean fault wait", MeanWait(reference), MeanWait(run), bounds.MeanWait);
            Within(at, "p99 fault latency", reference.FaultLatency.Percentile(0.99), run.FaultLatency.Percentile(0.99), bounds.P99Latency);
        }
    }

    private static double MeanWait(RunResult r) => r.FaultLatency.Mean - r.FaultService.Mean;

    private static void Within(string at, string figure, double reference, double value, double bound)
    {
        double deviation = reference == 0 ? Math.Abs(value) : Math.Abs(value - reference) / reference;
        Assert.True(deviation <= bound, $"{at}: {figure} {value:F1}, reference {reference:F1}: {deviation:P2} off, bound {bound:P2}");
    }
}
