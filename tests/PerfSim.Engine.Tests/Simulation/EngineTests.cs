using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

public sealed class EngineTests
{
    private static ScenarioConfig Small(string scenario, Strategy strategy = Strategy.PerFolio, ArchKind arch = ArchKind.X86_64) => new()
    {
        Scenario = scenario,
        Strategy = strategy,
        Arch = arch,
        Cpus = 16,
        Vcpus = 4,
        RamBytes = 2 * PageGeometry.GiB,
        GuestMemoryBytes = 16 * PageGeometry.MiB,
        Pages = 256,
        Vms = 2,
        Seed = 7,
    };

    /// <summary>The engine's concurrency test: host threads run simulated CPUs at once, in every
    /// design and every scenario kind, and must not change a figure.</summary>
    [Theory]
    [InlineData(ScenarioNames.GuestBoot, Strategy.PerFolio)]
    [InlineData(ScenarioNames.GuestBoot, Strategy.PerFolioV12)]
    [InlineData(ScenarioNames.GuestBoot, Strategy.Filemap)]
    [InlineData(ScenarioNames.VmChurn, Strategy.UnmappedAlloc)]
    [InlineData(ScenarioNames.VmChurn, Strategy.PerFolio)]
    [InlineData(ScenarioNames.SnapshotRestore, Strategy.PerFolioV12)]
    [InlineData(ScenarioNames.SnapshotRestore, Strategy.Filemap)]
    [InlineData(ScenarioNames.Populate, Strategy.UnmappedAlloc)]
    [InlineData(ScenarioNames.SecretmemTouch, Strategy.None)]
    [InlineData(ScenarioNames.TlbFlush2, Strategy.None)]
    public void Results_do_not_depend_on_host_threads(string scenario, Strategy strategy)
    {
        RunResult[] runs = [.. new[] { 1, 2, 4 }.Select(t => SimulationRun.Execute(Small(scenario, strategy) with { Threads = t }))];

        Assert.All(runs, r => Assert.Equal(runs[0].Digest, r.Digest));
        Assert.All(runs, r => Assert.Equal(runs[0].Counters, r.Counters));
        Assert.All(runs, r => Assert.Equal(runs[0].FaultLatency.Percentile(0.99), r.FaultLatency.Percentile(0.99)));
        Assert.All(runs, r => Assert.Equal(runs[0].ElapsedSimNs, r.ElapsedSimNs));
    }

    /// <summary>Seeded random configurations (scenario, strategy, arch, CPUs, vCPUs, quantum, jumps):
    /// 1, 2 and 3 host threads must agree exactly, the parallel rounds really running lanes at once.</summary>
    [Theory]
    [InlineData(101)]
    [InlineData(202)]
    [InlineData(303)]
    [InlineData(404)]
    public void Random_configurations_give_the_same_results_on_any_number_of_host_threads(int seed)
    {
        var rng = new Random(seed);
        string[] scenarios = [ScenarioNames.GuestBoot, ScenarioNames.VmChurn, ScenarioNames.SecretmemTouch, ScenarioNames.SnapshotRestore];
        ArchKind[] arches = [ArchKind.X86_64, ArchKind.X86_64Invlpgb, ArchKind.Arm64, ArchKind.Arm64Bbml2];
        int vcpus = 1 << rng.Next(4);
        ScenarioConfig config = Small(scenarios[rng.Next(scenarios.Length)], Designs.All[rng.Next(Designs.All.Count)].Id, arches[rng.Next(arches.Length)]) with
        {
            Cpus = vcpus * 4,
            Vcpus = vcpus,
            QuantumNs = 1000L << rng.Next(10),
            JumpProbability = rng.NextDouble() / 4,
            Seed = rng.Next(),
        };

        RunResult[] runs = [.. new[] { 1, 2, 3 }.Select(t => SimulationRun.Execute(config with { Threads = t }))];

        Assert.All(runs, r => Assert.Equal(runs[0].Digest, r.Digest));
        Assert.All(runs, r => Assert.Equal(runs[0].Counters, r.Counters));
        Assert.All(runs, r => Assert.Equal(runs[0].ElapsedSimNs, r.ElapsedSimNs));
        Assert.Empty(runs[0].Violations);
    }

    /// <summary>With more than one host thread the first worker draws and weaves each closed quantum
    /// while the caller runs the next one's rounds and serial steps (<see cref="HostCrew"/>). Many
    /// short quanta and more threads than cores (waits park at once, so a hand-off missed between
    /// two rounds stalls instead of being spun past) must neither stall nor move a figure.</summary>
    [Fact]
    public async Task The_weave_handed_to_a_worker_neither_stalls_nor_moves_a_figure()
    {
        ScenarioConfig config = Small(ScenarioNames.VmChurn, Strategy.PerFolio) with { QuantumNs = 2_000 };
        RunResult alone = SimulationRun.Execute(config with { Threads = 1 });

        foreach (int threads in new[] { 2, 3, 5 })
        {
            Task<RunResult> run = Task.Run(() => SimulationRun.Execute(config with { Threads = threads }));
            Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(1))) == run, $"--threads {threads} stalled");
            RunResult r = await run;
            Assert.Equal(alone.Digest, r.Digest);
            Assert.Equal(alone.Counters, r.Counters);
        }
    }

    [Fact]
    public void A_different_seed_gives_a_different_run_and_the_same_seed_the_same()
    {
        RunResult a = SimulationRun.Execute(Small(ScenarioNames.GuestBoot));
        RunResult b = SimulationRun.Execute(Small(ScenarioNames.GuestBoot));
        RunResult c = SimulationRun.Execute(Small(ScenarioNames.GuestBoot) with { Seed = 8 });

        Assert.Equal(a.Digest, b.Digest);
        Assert.NotEqual(a.Digest, c.Digest);
    }

    [Theory]
    [InlineData(ArchKind.X86_64, 4, 256)]
    [InlineData(ArchKind.X86_64, 1, 100)]
    [InlineData(ArchKind.Arm64, 4, 256)]
    public void Secretmem_touch_of_N_pages_on_C_cpus_costs_N_one_page_flushes_and_the_kernels_IPIs(ArchKind arch, int threads, int pages)
    {
        ScenarioConfig config = Small(ScenarioNames.SecretmemTouch, Strategy.None, arch) with { Vcpus = threads, Pages = pages, Passes = 2 };

        RunResult r = SimulationRun.Execute(config);

        long flushAll = r.Counter("flush_all");
        Assert.Equal(2L * pages, r.Counter("flush_kernel_range"));
        Assert.Equal(2L * pages, r.Counter("faults"));
        long callbacks = arch == ArchKind.X86_64 ? ((2L * pages) + flushAll) * (config.Cpus - 1) : 0;
        Assert.Equal(callbacks, r.Counter("ipi_callbacks"));
        if (threads == 1 || callbacks == 0)
        {
            // One toucher: each flush's callbacks ran before the next flush, so every csd found its
            // queue empty and sent an IPI: the real kernel's (cpus − 1) × (pages + splits).
            Assert.Equal(callbacks, r.Counter("ipis"));
        }
        else
        {
            // Touchers flushing at once find queues not yet drained: fewer IPIs than callbacks.
            Assert.InRange(r.Counter("ipis"), 1, callbacks - 1);
        }
        Assert.Equal(2L * pages, r.Counter("dm_restores"));
        Assert.Equal(2, r.Passes.Count);
        Assert.Equal(pages, r.Passes[0].Counters["flush_kernel_range"]);
        Assert.Equal(pages, r.Passes[1].Counters["dm_zaps"]);
        // The direct map never re-merges: DirectMap4k only grows, pass after pass. (The second pass
        // may still split new regions: frames freed on CPU 0's per-CPU list are not the ones
        // the other CPUs refill from.)
        Assert.All(r.Passes, p => Assert.True(p.DirectMapDelta.Entries4K >= 0, "DirectMap4k shrank: a re-merge"));
        Assert.True(r.Passes[1].Counters["direct_map_level2_splits"] <= r.Passes[0].Counters["direct_map_level2_splits"]);
        Assert.Equal(0, r.Counter("oops"));
        Assert.Empty(r.Violations);
    }

    /// <summary>kernel/smp.c: a csd queued on a target whose queue is not yet taken sends no IPI,
    /// so when more CPUs flush at once a larger share of callbacks rides on another's IPI. One
    /// toucher sends one IPI per callback. Not strictly at every step: where touchers queue on
    /// cpa_lock their flushes' spacing decides what coalesces (on 64 CPUs the share goes 1, 0.51,
    /// 0.50, 0.52, 0.49, 0.48, 0.39 for 1 to 64 touchers), so the test compares 1, 2, 16 and 64.</summary>
    [Fact]
    public void The_share_of_callbacks_that_need_an_ipi_falls_as_more_cpus_flush_at_once()
    {
        double[] share = [.. new[] { 1, 2, 16, 64 }.Select(p =>
        {
            RunResult r = SimulationRun.Execute(Small(ScenarioNames.SecretmemTouch, Strategy.None) with { Cpus = 64, Vcpus = p, Pages = 1024, RamBytes = 4 * PageGeometry.GiB });
            return (double)r.Counter("ipis") / r.Counter("ipi_callbacks");
        })];

        Assert.Equal(1.0, share[0]);
        Assert.True(share[1] < share[0] && share[2] < share[1] && share[3] < share[2], $"IPIs per callback: {string.Join(", ", share)}");
    }

    /// <summary>Every design record (a new one included, without a line here).</summary>
    public static TheoryData<Strategy> EveryDesign => [.. Designs.All.Select(d => d.Id)];

    [Theory]
    [MemberData(nameof(EveryDesign))]
    public void Every_scenario_runs_clean_under_every_strategy(Strategy strategy)
    {
        foreach (string scenario in ScenarioNames.All)
        {
            RunResult r = SimulationRun.Execute(Small(scenario, strategy));

            Assert.True(r.Faults > 0 || scenario == ScenarioNames.Populate, $"{scenario}: no faults");
            Assert.Empty(r.Violations);
            Assert.Equal(0, r.Counter("leaked_unmapped_frames"));
            Assert.Equal(r.DirectMapBefore.MappedBytes, r.DirectMapAfter.MappedBytes);
            AssertConserved(r, scenario);
        }
    }

    // will-it-scale tests/tlb_flush2.c: per loop a write fault, a one-page madvise(MADV_DONTNEED)
    // (arch/x86/mm/tlb.c flush_tlb_mm_range: a callback on each other CPU of mm_cpumask), a read
    // fault; every 256 loops a munmap of the 1 MiB (its zero-page PTEs: one more ranged flush).
    [Theory]
    [InlineData(ArchKind.X86_64, 1)]
    [InlineData(ArchKind.X86_64, 4)]
    [InlineData(ArchKind.X86_64Invlpgb, 3)]
    [InlineData(ArchKind.X86_64Invlpgb, 4)]
    public void Tlb_flush2_flushes_the_mm_once_per_loop_to_its_other_cpus(ArchKind arch, int threads)
    {
        ScenarioConfig config = Small(ScenarioNames.TlbFlush2, Strategy.None, arch) with { Vcpus = threads, Loops = 512, Threads = 2 };

        RunResult r = SimulationRun.Execute(config);

        long loops = threads * config.Loops;
        long flushes = loops + (threads * (config.Loops / 256));
        Assert.Equal(loops, r.Counter("madvise_dontneed"));
        Assert.Equal(2 * loops, r.Counter("user_faults"));
        Assert.Equal(flushes, r.Counter("flush_tlb_mm_range"));
        // INVLPGB: an mm active on 4 CPUs has a global ASID (consider_global_asid, C18): no IPIs.
        bool broadcast = arch == ArchKind.X86_64Invlpgb && threads >= 4;
        Assert.Equal(broadcast ? 0 : flushes * (threads - 1), r.Counter("ipi_callbacks"));
        Assert.InRange(r.Counter("ipis"), 0, r.Counter("ipi_callbacks"));
        Assert.Equal(broadcast ? flushes : 0, r.Counter("invlpgb_ops")); // one INVLPGB each (1 page, or the whole ASID)
        Assert.Empty(r.Violations);
    }

    /// <summary>tlb-flush2's steps all run in parallel rounds; its cross calls (IPIs to a cpumask,
    /// INVLPGB and TLBI broadcasts) are woven in time order, so host threads change nothing.</summary>
    [Theory]
    [InlineData(ArchKind.X86_64Invlpgb)]
    [InlineData(ArchKind.Arm64)]
    public void Tlb_flush2_results_do_not_depend_on_host_threads(ArchKind arch)
    {
        RunResult[] runs = [.. new[] { 1, 2, 4 }.Select(t => SimulationRun.Execute(Small(ScenarioNames.TlbFlush2, Strategy.None, arch) with { Vcpus = 8, Loops = 300, Threads = t }))];

        Assert.All(runs, r => Assert.Equal(runs[0].Digest, r.Digest));
        Assert.All(runs, r => Assert.Equal(runs[0].Counters, r.Counters));
        Assert.All(runs, r => Assert.Equal(runs[0].ElapsedSimNs, r.ElapsedSimNs));
    }

    [Fact]
    public void Tlb_flush2_loops_per_simulated_second_fall_as_ipi_targets_grow_on_x86()
    {
        double Rate(int threads)
        {
            RunResult r = SimulationRun.Execute(Small(ScenarioNames.TlbFlush2, Strategy.None) with { Vcpus = threads, Loops = 512, Threads = 2 });
            return r.Counter("madvise_dontneed") / (double)r.ElapsedSimNs / threads;
        }

        Assert.True(Rate(8) < Rate(2), "per-thread loop rate must fall when each flush reaches more CPUs");
    }

    /// <summary>Every RAM frame has one owner; nothing is left allocated in transit; page tables are
    /// exactly the splits' tables; only guest-boot keeps its guest memory cached at the end.</summary>
    private static void AssertConserved(RunResult r, string scenario)
    {
        long owned = r.Counter("frames_free") + r.Counter("frames_page_cache") + r.Counter("frames_page_table")
            + r.Counter("frames_allocated") + r.Counter("frames_reserved") + r.Counter("frames_leaked");
        Assert.Equal(r.Counter("frames_ram"), owned);
        Assert.Equal(0, r.Counter("frames_allocated"));
        Assert.Equal(0, r.Counter("frames_leaked"));
        Assert.Equal(r.Counter("pt_pages"), r.Counter("frames_page_table"));
        long cached = scenario == ScenarioNames.GuestBoot ? r.Config.GuestPages : 0;
        Assert.Equal(cached, r.Counter("frames_page_cache"));
    }

    [Fact]
    public void Guest_boot_per_folio_zaps_and_flushes_once_per_guest_page()
    {
        ScenarioConfig config = Small(ScenarioNames.GuestBoot) with { PopulateFraction = 0 };

        RunResult r = SimulationRun.Execute(config);

        long pages = config.GuestPages;
        Assert.Equal(pages, r.Counter("guest_faults"));
        Assert.Equal(pages, r.Counter("dm_zaps"));
        Assert.Equal(pages, r.Counter("flush_kernel_range"));
        // A callback on every other CPU per flush; vCPUs flushing at once share IPIs (kernel/smp.c).
        Assert.Equal((pages + r.Counter("flush_all")) * (config.Cpus - 1), r.Counter("ipi_callbacks"));
        Assert.InRange(r.Counter("ipis"), 1, r.Counter("ipi_callbacks") - 1);
        Assert.Equal(pages, r.FaultLatency.Count);
    }

    [Fact]
    public void Unmapped_alloc_replaces_per_page_shootdowns_with_one_flush_per_pageblock()
    {
        ScenarioConfig config = Small(ScenarioNames.GuestBoot, Strategy.UnmappedAlloc) with { PopulateFraction = 0 };

        RunResult r = SimulationRun.Execute(config);

        Assert.Equal(0, r.Counter("dm_zaps"));
        // One flip per pageblock the guest's pages came from: at least the guest's size, plus at
        // most one partly used pageblock per vCPU's per-CPU list (which ones depends on timing).
        Assert.InRange(r.Counter("pageblock_flips"), config.GuestPages / 512, (config.GuestPages / 512) + config.Vcpus);
        Assert.Equal(r.Counter("pageblock_flips"), r.Counter("flush_kernel_range"));
        Assert.Equal(0, r.Counter("direct_map_level2_splits"));
    }

    [Fact]
    public void More_cpus_make_per_page_shootdowns_slower()
    {
        RunResult small = SimulationRun.Execute(Small(ScenarioNames.GuestBoot) with { Cpus = 8 });
        RunResult large = SimulationRun.Execute(Small(ScenarioNames.GuestBoot) with { Cpus = 128 });
        RunResult kept = SimulationRun.Execute(Small(ScenarioNames.GuestBoot, Strategy.None) with { Cpus = 128 });

        Assert.True(large.FaultLatency.Percentile(0.5) > small.FaultLatency.Percentile(0.5), "p50 grows with the IPI fan-out");
        Assert.True(kept.FaultLatency.Percentile(0.5) < large.FaultLatency.Percentile(0.5), "no shootdown without NO_DIRECT_MAP");
    }

    [Fact]
    public void The_report_states_the_memory_per_simulated_frame()
    {
        RunResult r = SimulationRun.Execute(Small(ScenarioNames.GuestBoot));

        // Frame records only for the chunks the run touched (the guest's part of the 2 GiB host):
        // less than the 8 B a record per frame would take.
        Assert.True(r.BytesPerFrame > 1 && r.BytesPerFrame < 8, $"{r.BytesPerFrame} bytes per frame");
        Assert.Equal(2 * PageGeometry.GiB / PageGeometry.PageSize, r.Frames);
    }
}
