using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>arm64 guest_memfd NO_DIRECT_MAP needs FEAT_S2FWB.</summary>
public sealed class Stage2FwbTests
{
    // Series v10 08/15 "KVM: arm64: define kvm_arch_gmem_supports_no_direct_map()": support needs a
    // 4K-granular linear map and FEAT_S2FWB (ARM64_HAS_STAGE2_FWB), because without FWB
    // kvm_pgtable_stage2_map() does dcache_clean_inval_poc() through the linear map.
    [Theory]
    [InlineData(ArchKind.Arm64, true, 0)]
    [InlineData(ArchKind.Arm64, false, Errno.EINVAL)]
    [InlineData(ArchKind.Arm64Bbml2, false, Errno.EINVAL)]
    [InlineData(ArchKind.X86_64, false, 0)]
    public void No_direct_map_needs_stage2_fwb_on_arm64(ArchKind arch, bool fwb, int expected)
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, cpus: 2, ramBytes: PageGeometry.GiB, arch: arch, stage2Fwb: fwb);
        KernelProcess p = k.CreateProcess();

        Assert.Equal(expected, k.GmemCreate(p, 16, GmemFlags.NoDirectMap, VmType.Default, out _));
        Assert.Equal(0, k.GmemCreate(p, 16, GmemFlags.Mmap, VmType.Default, out _));
    }
}
