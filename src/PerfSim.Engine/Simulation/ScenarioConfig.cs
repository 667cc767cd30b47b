using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
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

    public static IReadOnlyList<string> All { get; } = [GuestBoot, Populate, SecretmemTouch, VmChurn, SnapshotRestore];

    public static string Describe(string name) => name switch
    {
        GuestBoot => "a VM of V vCPUs faults its guest memory in (sequential per vCPU with random jumps), after the VMM populated part of it",
        Populate => "the VMM populates G bytes of guest memory by each population path in turn",
        SecretmemTouch => "a process creates a memfd_secret of N pages, touches them from P CPUs, then unmaps and closes it (--passes K cycles)",
        VmChurn => "VMs are created, populated, ballooned (PUNCH_HOLE) and destroyed over and over: long-term direct-map fragmentation",
        SnapshotRestore => "a VM is restored from a snapshot file by write() and, again, by memcpy",
        _ => string.Empty,
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

    /// <summary>vCPUs of each VM (or threads touching secretmem).</summary>
    public int Vcpus { get; init; } = 16;

    public long RamBytes { get; init; } = 16 * PageGeometry.GiB;

    public long GuestMemoryBytes { get; init; } = PageGeometry.GiB;

    /// <summary>secretmem pages (secretmem-touch).</summary>
    public long Pages { get; init; } = 4096;

    public int Passes { get; init; } = 1;

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
    /// shared effects are woven in time order (docs/engine.md). Part of the model, so of the digest.</summary>
    public long QuantumNs { get; init; } = 100_000;

    /// <summary>Probability that a vCPU jumps to a random page of its slice instead of the next one.</summary>
    public double JumpProbability { get; init; } = 0.05;

    public bool GbPages { get; init; } = true;

    public bool RodataFull { get; init; } = true;

    public CostProfile? Costs { get; init; }

    public long GuestPages => GuestMemoryBytes / PageGeometry.PageSize;
}
