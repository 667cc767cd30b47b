using PerfSim.Core.Arch;
using PerfSim.Core.Events;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Simulation;

/// <summary>Runs one scenario from a resolved configuration and returns its result.</summary>
public static class SimulationRun
{
    /// <summary>Builds the host, runs the scenario's phases, collects the result.</summary>
    /// <param name="config">A validated configuration.</param>
    /// <param name="host">The host's memory (from --e820 or --meminfo), or null for <c>config.RamBytes</c> from 0.</param>
    /// <param name="sink">Receives every simulated kernel event (binary traces), or null.</param>
    /// <param name="progress">Called with the share done (0..1), or null.</param>
    public static RunResult Execute(ScenarioConfig config, HostSpec? host = null, ISimEventSink? sink = null, Action<double>? progress = null)
    {
        using RunScope run = RunScope.Start(config, host, sink, progress);
        Drive(run);
        return run.Finish();
    }

    /// <summary>Runs the scenario's phases on a started run (its result not collected yet).</summary>
    internal static void Drive(RunScope run)
    {
        switch (run.Context.Config.Scenario)
        {
            case ScenarioNames.GuestBoot:
                GuestBoot(run.Context, run.Simulator);
                break;
            case ScenarioNames.Populate:
                Populate(run.Context, run.Simulator, run.Passes);
                break;
            case ScenarioNames.SecretmemTouch:
                SecretmemTouch(run.Context, run.Simulator, run.Passes);
                break;
            case ScenarioNames.VmChurn:
                VmChurn(run.Context, run.Simulator, run.Passes);
                break;
            case ScenarioNames.TlbFlush2:
                TlbFlush2(run.Context, run.Simulator);
                break;
            default:
                SnapshotRestore(run.Context, run.Simulator, run.Passes);
                break;
        }
    }

    /// <summary>The direct-map profile of an architecture (INVLPGB changes flushing, not mapping).</summary>
    public static DirectMapProfile DirectMapProfileOf(ScenarioConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Architectures.Of(config.Arch).DirectMap(config.GbPages, config.RodataFull);
    }

    internal static void CheckFits(ScenarioConfig c, SimKernel kernel) => Preflight.CheckFits(c, kernel.Frames.Layout.RamBytes);

    internal static KernelFile CreateGuestMemfd(SimKernel kernel, KernelProcess vmm, long pages)
    {
        GmemFlags flags = GmemFlags.Mmap | GmemFlags.InitShared;
        if (kernel.Design.RemovesDirectMap)
        {
            flags |= GmemFlags.NoDirectMap;
        }

        int error = kernel.GmemCreate(vmm, pages, flags, VmType.Default, out KernelFile? file);
        return error == 0 ? file! : throw new InputException($"strategy: guest_memfd NO_DIRECT_MAP is refused on this host ({error}): can_set_direct_map() is false; set strategy to none or rodata to full");
    }

    private static KernelFile CreateSnpGuestMemfd(SimKernel kernel, KernelProcess vmm, long pages)
    {
        int error = kernel.GmemCreate(vmm, pages, GmemFlags.None, VmType.Snp, out KernelFile? file);
        return error == 0 ? file! : throw new InvalidOperationException($"an SNP guest_memfd without flags was refused ({error})");
    }

    /// <summary>The VMM's CPU: the first CPU after the vCPUs (or CPU 0 when they use every CPU).</summary>
    private static int VmmCpu(ScenarioConfig c) => c.Vcpus < c.Cpus ? c.Vcpus : 0;

    private static void GuestBoot(SimContext ctx, Simulator sim)
    {
        ScenarioConfig c = ctx.Config;
        SimKernel k = ctx.Kernel;
        KernelProcess vmm = k.CreateProcess();
        KernelFile file = CreateGuestMemfd(k, vmm, c.GuestPages);
        long populated = (long)(c.GuestPages * c.PopulateFraction) & ~((1L << c.FolioOrder) - 1);
        if (populated > 0)
        {
            k.RunThread(vmm, VmmCpu(c));
            sim.RunPhase([new VmmPopulator(VmmCpu(c), file, 0, populated, c.Populate)], populated);
        }

        sim.RunPhase(Vcpus(k, c, file, 0, c.Seed), c.GuestPages);
    }

    /// <summary>The VM's vCPU threads, threads of the VMM's mm (its <c>mm_cpumask</c>: the CPUs a
    /// flush of the VMM's user PTEs reaches).</summary>
    private static List<Actor> Vcpus(SimKernel k, ScenarioConfig c, KernelFile file, int firstCpu, long seed)
    {
        long slice = file.SizePages / c.Vcpus;
        var vcpus = new List<Actor>(c.Vcpus);
        for (int i = 0; i < c.Vcpus; i++)
        {
            int cpu = (firstCpu + (c.SpreadVcpus ? (int)((long)i * c.Cpus / c.Vcpus) : i)) % c.Cpus;
            k.RunThread(file.Process, cpu, vcpu: true);
            vcpus.Add(new GuestVcpu(cpu, file, i * slice, slice, Seeds.Derive(seed, i, firstCpu), c.JumpProbability, lookAhead: c.BackgroundAccesses == 0));
        }

        return vcpus;
    }

    /// <summary>will-it-scale <c>tlb_flush2_threads</c>: P threads of one process on CPUs 0..P−1.</summary>
    private static void TlbFlush2(SimContext ctx, Simulator sim)
    {
        ScenarioConfig c = ctx.Config;
        SimKernel k = ctx.Kernel;
        KernelProcess mm = k.CreateProcess();
        var threads = new List<Actor>(c.Vcpus);
        for (int t = 0; t < c.Vcpus; t++)
        {
            k.RunThread(mm, t);
            threads.Add(new TlbFlush2Thread(t, mm, c.Loops));
        }

        sim.RunPhase(threads, c.Vcpus * c.Loops);
    }

    private static void Populate(SimContext ctx, Simulator sim, List<PassResult> passes)
    {
        SimKernel k = ctx.Kernel;
        KernelProcess vmm = k.CreateProcess();
        int pass = 1;
        foreach (PopulationPath path in Enum.GetValues<PopulationPath>())
        {
            Pass(ctx, sim, passes, pass++, path.Name(), () =>
            {
                // kvm_gmem_populate serves only TDX/SNP VMs, which refuse NO_DIRECT_MAP when the file
                // is created (v12): its pass fills an SNP VM's private memory under every design.
                KernelFile file = path == PopulationPath.GmemPopulate
                    ? CreateSnpGuestMemfd(k, vmm, ctx.Config.GuestPages)
                    : CreateGuestMemfd(k, vmm, ctx.Config.GuestPages);
                k.RunThread(vmm, 0);
                sim.RunPhase([new VmmPopulator(0, file, 0, file.SizePages, path)], file.SizePages);
                k.GmemRelease(0, file);
            });
        }
    }

    private static void SecretmemTouch(SimContext ctx, Simulator sim, List<PassResult> passes)
    {
        ScenarioConfig c = ctx.Config;
        SimKernel k = ctx.Kernel;
        KernelProcess process = k.CreateProcess();
        for (int pass = 1; pass <= c.Passes; pass++)
        {
            Pass(ctx, sim, passes, pass, "touch-and-close", () =>
            {
                int error = k.SecretmemCreate(process, c.Pages, out KernelFile? file);
                if (error != 0)
                {
                    throw new InputException($"scenario: memfd_secret() fails with {error} on this host (can_set_direct_map() is false); set rodata to full");
                }

                int threads = (int)Math.Min(c.Vcpus, c.Pages);
                long share = c.Pages / threads;
                var touchers = new List<Actor>(threads);
                for (int t = 0; t < threads; t++)
                {
                    long start = t * share;
                    long pages = t == threads - 1 ? c.Pages - start : share;
                    touchers.Add(new SecretmemToucher(t, file!, start, pages));
                }

                sim.RunPhase(touchers, c.Pages);
                k.SecretmemRelease(0, file!);
                sim.AlignClocks();
            });
        }
    }

    private static void VmChurn(SimContext ctx, Simulator sim, List<PassResult> passes)
    {
        ScenarioConfig c = ctx.Config;
        SimKernel k = ctx.Kernel;
        var rng = new Random(unchecked((int)Seeds.Derive(c.Seed, -1)));
        for (int cycle = 1; cycle <= c.Passes; cycle++)
        {
            Pass(ctx, sim, passes, cycle, "create-populate-balloon-destroy", () =>
            {
                var vms = new List<KernelFile>();
                for (int v = 0; v < c.Vms; v++)
                {
                    vms.Add(CreateGuestMemfd(k, k.CreateProcess(), c.GuestPages));
                }

                long populated = (long)(c.GuestPages * c.PopulateFraction) & ~((1L << c.FolioOrder) - 1);
                for (int v = 0; v < vms.Count; v++)
                {
                    k.RunThread(vms[v].Process, v % c.Cpus);
                }

                var populators = vms.Select((f, v) => (Actor)new VmmPopulator(v % c.Cpus, f, 0, populated, c.Populate)).ToList();
                sim.RunPhase(populators, populated * c.Vms);
                var vcpus = vms.SelectMany((f, v) => Vcpus(k, c, f, v * c.Vcpus, Seeds.Derive(c.Seed, cycle, v))).ToList();
                sim.RunPhase(vcpus, c.GuestPages * c.Vms);

                // Balloon: each VM gives back a random half of its memory in 2 MiB-sized holes.
                long chunk = Math.Min(512, c.GuestPages);
                for (int v = 0; v < vms.Count; v++)
                {
                    for (long start = 0; start + chunk <= c.GuestPages; start += chunk)
                    {
                        if (rng.Next(2) == 0)
                        {
                            k.GmemPunchHole(v % c.Cpus, vms[v], start, chunk);
                        }
                    }
                }

                sim.AlignClocks();
                for (int v = 0; v < vms.Count; v++)
                {
                    k.GmemRelease(v % c.Cpus, vms[v]);
                }

                sim.AlignClocks();
            });
        }
    }

    private static void SnapshotRestore(SimContext ctx, Simulator sim, List<PassResult> passes)
    {
        ScenarioConfig c = ctx.Config;
        SimKernel k = ctx.Kernel;
        KernelProcess vmm = k.CreateProcess();
        // write() goes through the direct map where the design keeps it, else through the mermap.
        PopulationPath write = k.Design.DirectMapWrite ? PopulationPath.WriteDirectMap : PopulationPath.WriteMermap;
        foreach (PopulationPath path in (PopulationPath[])[write, PopulationPath.Memcpy])
        {
            Pass(ctx, sim, passes, passes.Count + 1, "restore-by-" + path.Name(), () =>
            {
                KernelFile file = CreateGuestMemfd(k, vmm, c.GuestPages);
                k.RunThread(vmm, VmmCpu(c));
                sim.RunPhase([new VmmPopulator(VmmCpu(c), file, 0, file.SizePages, path)], file.SizePages);
                sim.RunPhase(Vcpus(k, c, file, 0, c.Seed), c.GuestPages);
                k.GmemRelease(0, file);
                sim.AlignClocks();
            });
        }
    }

    /// <summary>Runs one pass and records its counter deltas, DirectMap change and simulated time.</summary>
    private static void Pass(SimContext ctx, Simulator sim, List<PassResult> passes, int pass, string label, Action body)
    {
        SimKernel k = ctx.Kernel;
        List<KeyValuePair<string, long>> before = Counters.Take(k);
        DirectMapCounts dmBefore = k.DirectMap.Counts;
        long start = sim.Now;
        body();
        Dictionary<string, long> delta = Counters.Delta(before, Counters.Take(k));
        delta["sim_ns"] = sim.Now - start;
        DirectMapCounts dm = k.DirectMap.Counts;
        passes.Add(new PassResult(pass, label, delta, new DirectMapCounts(dm.Entries4K - dmBefore.Entries4K, dm.Entries2M - dmBefore.Entries2M, dm.Entries1G - dmBefore.Entries1G)));
    }
}
