using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Host;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Benchmarks.Infrastructure;

/// <summary>The simulated host the micro benchmarks run on: a whole <see cref="SimKernel"/>, so each
/// part is wired to the others as in a real run (the allocator's free check, the direct map's
/// page-table source), on the x86-64 profile.</summary>
internal static class BenchHost
{
    public static SimKernel Create(int cpus, long ramBytes, bool gbPages = true) => new(new KernelOptions
    {
        Cpus = cpus,
        Arch = ArchProfile.For(ArchKind.X86_64),
        Costs = CostProfile.Default(ArchKind.X86_64),
        DirectMap = DirectMapProfile.X86 with { GbPages = gbPages },
        Layout = MemoryLayout.FromSize(ramBytes),
    });
}
