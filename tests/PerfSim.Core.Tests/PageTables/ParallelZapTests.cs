using PerfSim.Core.Allocator;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tests.Kernel;

namespace PerfSim.Core.Tests.PageTables;

/// <summary>A first-use zap may run in a parallel round only when it rewrites its own PTE and
/// nothing else: on arm64 BBML2 a PTE with the contiguous hint breaks its whole CONT_PTE group,
/// which a zap on another CPU may be breaking at the same time.</summary>
public sealed class ParallelZapTests
{
    [Fact]
    public void A_zap_of_a_contiguous_PTE_is_not_cpu_local()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, arch: ArchKind.Arm64Bbml2);
        KernelFile file = KernelFixture.Gmem(k, 64);
        KernelFile mapped = KernelFixture.Gmem(k, 64, GmemFlags.Mmap | GmemFlags.InitShared);
        Assert.True(k.GmemUserFault(0, mapped, 0).Ok); // fills CPU 0's per-CPU list, zaps nothing
        Assert.True(k.Allocator.TryPeekPcp(0, AllocFlags.None, out long pfn));
        Assert.NotEqual(PageLevel.Level4K, k.DirectMap.Lookup(pfn).Level);
        Assert.False(k.FaultIsCpuLocal(0, file, 0)); // inside a block: the zap splits

        long neighbour = (pfn & ~(DirectMapBoot.ContEntries - 1)) ^ DirectMapBoot.ContEntries;
        k.DirectMap.SetInvalidNoFlush(0, neighbour); // splits the block into contiguous PTEs
        k.DirectMap.SetDefaultNoFlush(0, neighbour);
        Assert.Equal(PageLevel.Level4K, k.DirectMap.Lookup(pfn).Level);
        Assert.Equal(PteFlags.Cont, k.DirectMap.Lookup(pfn).Flags & PteFlags.Cont);

        Assert.False(k.FaultIsCpuLocal(0, file, 0));
    }

    [Fact]
    public void A_zap_of_a_lone_PTE_is_cpu_local()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, arch: ArchKind.Arm64);
        KernelFile file = KernelFixture.Gmem(k, 64);
        KernelFile mapped = KernelFixture.Gmem(k, 64, GmemFlags.Mmap | GmemFlags.InitShared);
        Assert.True(k.GmemUserFault(0, mapped, 0).Ok); // fills CPU 0's per-CPU list

        Assert.True(k.FaultIsCpuLocal(0, file, 0));
    }
}
