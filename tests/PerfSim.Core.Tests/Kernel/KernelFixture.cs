using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.Kernel;

internal static class KernelFixture
{
    public static SimKernel Create(Strategy strategy, int cpus = 4, long ramBytes = 8 * PageGeometry.GiB, ArchKind arch = ArchKind.X86_64,
        KernelBugs bugs = KernelBugs.None, int folioOrder = 0, DirectMapProfile? directMap = null,
        ZapFlushPolicy? flushPolicy = null, bool stage2Fwb = true)
    {
        DirectMapProfile dm = directMap ?? Architectures.Of(arch).DirectMap(gbPages: true, rodataFull: true);
        return new SimKernel(new KernelOptions
        {
            Cpus = cpus,
            Arch = ArchProfile.For(arch),
            Costs = CostProfile.Default(arch),
            DirectMap = dm,
            Layout = MemoryLayout.FromSize(ramBytes),
            Strategy = strategy,
            Bugs = bugs,
            GuestFolioOrder = folioOrder,
            FlushPolicy = flushPolicy ?? ZapFlushPolicy.Every,
            Stage2Fwb = stage2Fwb,
        });
    }

    public static KernelFile Gmem(SimKernel k, long pages, GmemFlags flags = GmemFlags.NoDirectMap | GmemFlags.Mmap | GmemFlags.InitShared)
    {
        if (k.Strategy == Strategy.None)
        {
            flags &= ~GmemFlags.NoDirectMap;
        }

        Assert.Equal(0, k.GmemCreate(k.CreateProcess(), pages, flags, VmType.Default, out KernelFile? file));
        return file!;
    }

    /// <summary>Every RAM frame has exactly one owner, and none is left in transit (allocated but
    /// neither cached nor a page table): nothing leaked, nothing double-freed.</summary>
    public static void AssertConserved(SimKernel k, long expectedCached)
    {
        long[] byOwner = k.Frames.CountByOwner();
        long ram = k.Frames.Layout.RamPages;
        long owned = byOwner[(int)FrameOwner.Free] + byOwner[(int)FrameOwner.PageTable] + byOwner[(int)FrameOwner.PageCache]
            + byOwner[(int)FrameOwner.Reserved] + byOwner[(int)FrameOwner.Leaked];
        Assert.True(byOwner[(int)FrameOwner.Allocated] == 0, $"{byOwner[(int)FrameOwner.Allocated]} frames left allocated in transit");
        Assert.Equal(ram, owned);
        Assert.Equal(expectedCached, byOwner[(int)FrameOwner.PageCache]);
        Assert.Equal(k.DirectMap.PageTablePages, byOwner[(int)FrameOwner.PageTable]);
    }
}
