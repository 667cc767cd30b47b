using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;
using PerfSim.Core.Kernel;

namespace PerfSim.Engine.Simulation;

/// <summary>The built-in scenarios.</summary>
public static class ScenarioNames
{
    public const string GuestBoot = "guest-boot";
    public const string Populate = "populate";
    public const string SecretmemTouch = "secretmem-touch";
    public const string VmChurn = "vm-churn";
    public const string SnapshotRestore = "snapshot-restore";
    public const string TlbFlush2 = "tlb-flush2";

    public static IReadOnlyList<string> All { get; } = [GuestBoot, Populate, SecretmemTouch, VmChurn, SnapshotRestore, TlbFlush2];

    /// <summary>What the scenario does, in the letters of <see cref="Letters"/>.</summary>
    public static string Describe(string name) => name switch
    {
        GuestBoot => "a VM of V vCPUs faults its G of guest memory in (sequential per vCPU with random jumps), after the VMM populated part of it",
        Populate => "the VMM populates G of guest memory by each population path in turn",
        SecretmemTouch => "a process creates a memfd_secret of N pages, touches them from P CPUs, then unmaps and closes it, K times",
        VmChurn => "N VMs of V vCPUs and G each are created, populated, ballooned (PUNCH_HOLE) and destroyed, K times: long-term direct-map fragmentation",
        SnapshotRestore => "a VM of V vCPUs is restored from a snapshot of G by write() and, again, by memcpy",
        TlbFlush2 => "will-it-scale tlb_flush2_threads: P threads of one process, one per CPU, each writes a page of its own, madvise(MADV_DONTNEED)s it and reads it again, K loops (a user-mm shootdown per loop)",
        _ => string.Empty,
    };

    /// <summary>The phases a run of <paramref name="c"/> goes through, in order, named for progress
    /// displays: one per <c>Simulator.RunPhase</c> call that reports progress in SimulationRun.</summary>
    public static IReadOnlyList<string> Phases(ScenarioConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        bool populates = ((long)(c.GuestPages * c.PopulateFraction) & ~((1L << c.FolioOrder) - 1)) > 0;
        return c.Scenario switch
        {
            GuestBoot => populates ? ["populate", "boot"] : ["boot"],
            Populate => [.. KernelNames.PopulationPaths.Select(p => "populate by " + p)],
            SecretmemTouch => [.. Enumerable.Range(1, c.Passes).Select(i => $"touch, pass {i}")],
            VmChurn => [.. Enumerable.Range(1, c.Passes).SelectMany(i => (string[])(populates ? [$"populate, cycle {i}", $"boot, cycle {i}"] : [$"boot, cycle {i}"]))],
            TlbFlush2 => ["loops"],
            _ => ["restore by write()", "boot after write()", "restore by memcpy", "boot after memcpy"],
        };
    }

    /// <summary>The field each letter of <see cref="Describe"/> stands for.</summary>
    public static IReadOnlyList<(char Letter, string Field)> Letters(string name) => name switch
    {
        GuestBoot => [('V', "vcpus"), ('G', "guest_memory")],
        Populate => [('G', "guest_memory")],
        SecretmemTouch => [('N', "pages"), ('P', "vcpus"), ('K', "passes")],
        VmChurn => [('N', "vms"), ('V', "vcpus"), ('G', "guest_memory"), ('K', "passes")],
        SnapshotRestore => [('V', "vcpus"), ('G', "guest_memory")],
        TlbFlush2 => [('P', "vcpus"), ('K', "loops")],
        _ => [],
    };
}

/// <summary>
/// A fully resolved run configuration: every field has a default and a validated range
/// (<see cref="ScenarioFields"/>), from a built-in scenario, a JSON file and command-line options.
/// </summary>
public sealed record ScenarioConfig
{
    public string Scenario { get; init; } = ScenarioNames.GuestBoot;

    public Strategy Strategy { get; init; } = Strategy.PerFolio;

    public ArchKind Arch { get; init; } = ArchKind.X86_64;

    /// <summary>Host CPUs (all online; idle ones still take IPIs).</summary>
    public int Cpus { get; init; } = 64;

    /// <summary>vCPUs of each VM (or threads touching secretmem). Unless set, min(16, <see cref="Cpus"/>),
    /// so that a small host needs no second option.</summary>
    public int Vcpus
    {
        get => _vcpus ?? Math.Min(DefaultVcpus, Cpus);
        init => _vcpus = value;
    }

    /// <summary>The vCPUs of a VM when <see cref="Vcpus"/> is not set and the host has that many CPUs.</summary>
    public const int DefaultVcpus = 16;

    private readonly int? _vcpus;

    public long RamBytes { get; init; } = 16 * PageGeometry.GiB;

    public long GuestMemoryBytes { get; init; } = PageGeometry.GiB;

    /// <summary>secretmem pages (secretmem-touch).</summary>
    public long Pages { get; init; } = 4096;

    public int Passes { get; init; } = 1;

    /// <summary>Loops of each thread (tlb-flush2): write, madvise(MADV_DONTNEED), read of one page.</summary>
    public long Loops { get; init; } = 2048;

    public long Seed { get; init; } = 1;

    /// <summary>Host threads (results do not depend on it).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public PopulationPath Populate { get; init; } = PopulationPath.Memcpy;

    /// <summary>Share of guest memory the VMM populates before the guest boots (guest-boot).</summary>
    public double PopulateFraction { get; init; } = 0.25;

    public int FolioOrder { get; init; }

    /// <summary>VMs per churn cycle (vm-churn).</summary>
    public int Vms { get; init; } = 4;

    /// <summary>Random direct-map accesses by the kernel on the faulting CPU per fault (a background
    /// kernel load that fills TLBs with 2M/1G entries and reaches other CPUs' pages).</summary>
    public int BackgroundAccesses { get; init; }

    /// <summary>Length of an engine quantum in simulated ns: CPUs run this far apart before their
    /// shared effects are woven in time order (docs/engine.md). Part of the model, so of the digest.
    /// 1 ms: within <c>QuantumFidelityTests</c>' bounds of the 1 µs reference, as every quantum up to
    /// 10 ms is; issue 19's guest boot then closes a seventh of the quanta of 100 µs and runs a fifth
    /// of the rounds (docs/engine.md, "Quantum and fidelity").</summary>
    public long QuantumNs { get; init; } = 1_000_000;

    /// <summary>How many closed quanta may wait for their weave (<see cref="KernelOptions.WeaveDepth"/>).
    /// Not a scenario field: the fidelity test sets 1 for its reference.</summary>
    internal int WeaveDepth { get; init; } = KernelOptions.DefaultWeaveDepth;

    /// <summary>Probability that a vCPU jumps to a random page of its slice instead of the next one.</summary>
    public double JumpProbability { get; init; } = 0.05;

    /// <summary>Mean guest time between a vCPU's faults, exponential (0: a fault storm). The default
    /// is the guest writing the 4 KiB page it just faulted in, at the host's <c>clear_page</c> rate
    /// (<see cref="CostProfile.Zero4KNs"/>: a guest kernel zeroing the pages it allocates,
    /// <c>init_on_alloc</c>): ESTIMATE, no published per-page boot profile was found
    /// (docs/tlb-flush-costs.md).</summary>
    public long ThinkNs { get; init; } = DefaultThinkNs;

    public static readonly long DefaultThinkNs = new CostProfile().Zero4KNs;

    /// <summary>The host's idle loop on CPUs nothing runs on.</summary>
    public IdlePolicy Idle { get; init; } = IdlePolicy.IntelIdle;

    /// <summary>How x2APIC sends IPIs to many CPUs.</summary>
    public X2ApicMode X2Apic { get; init; } = X2ApicMode.Cluster;

    /// <summary>CPUs busy with host work (VMM threads, background load) besides the actors'; the
    /// highest-numbered free CPUs. The rest idle.</summary>
    public int BusyCpus { get; init; }

    /// <summary>Spread vCPUs over the host's CPUs (vCPU i on CPU i × cpus / vcpus) instead of
    /// pinning them to the first CPUs.</summary>
    public bool SpreadVcpus { get; init; }

    public bool GbPages { get; init; } = true;

    public bool RodataFull { get; init; } = true;

    /// <summary>When the per-folio designs flush their zaps: every (the series today), batch:N or none (v5).</summary>
    public ZapFlushPolicy FlushPolicy { get; init; } = ZapFlushPolicy.Every;

    /// <summary>arm64: the CPUs have FEAT_S2FWB, which guest_memfd NO_DIRECT_MAP needs.</summary>
    public bool Stage2Fwb { get; init; } = true;

    public CostProfile? Costs { get; init; }

    public long GuestPages => GuestMemoryBytes / PageGeometry.PageSize;
}
