using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>guest_memfd's migration, kvm_gmem_populate and the shared zero page, as in 6.18.</summary>
public sealed class GuestMemfdOperationsTests
{
    // virt/kvm/guest_memfd.c (6.18): kvm_gmem_migrate_folio is WARN_ON_ONCE(1); return -EINVAL.
    [Theory]
    [InlineData(Strategy.None)]
    [InlineData(Strategy.PerFolio)]
    public void Migrating_a_guest_memfd_folio_is_refused_without_touching_the_direct_map(Strategy strategy)
    {
        using SimKernel k = KernelFixture.Create(strategy);
        KernelFile f = KernelFixture.Gmem(k, 4);
        long pfn = k.GmemGetPfn(0, f, 1).Pfn;
        long accesses = k.TotalCounters().DirectMapAccesses;

        PathResult r = k.MigrateFolio(0, f, 1);

        Assert.Equal(Errno.EINVAL, r.Error);
        Assert.Equal(accesses, k.TotalCounters().DirectMapAccesses);
        Assert.True(k.PageCache.TryLookup(f.Mapping, 1, out var folio) && folio.Pfn == pfn);
        Assert.Equal(0, k.Checker.Total);
    }

    // kvm_gmem_populate is reached only from SNP_LAUNCH_UPDATE / TDX_INIT_MEM_REGION; a default
    // VM's file is refused.
    [Theory]
    [InlineData(Strategy.None)]
    [InlineData(Strategy.PerFolio)]
    public void Kvm_gmem_populate_refuses_a_default_VM_file(Strategy strategy)
    {
        using SimKernel k = KernelFixture.Create(strategy);

        Assert.Equal(Errno.EINVAL, k.Populate(0, KernelFixture.Gmem(k, 8), 0, PopulationPath.GmemPopulate).Error);
        Assert.Equal(1, k.TotalCounters().PopulateRefused);
        Assert.Equal(0, k.TotalCounters().CopiedPages);
    }

    // v12: TDX/SNP refuse NO_DIRECT_MAP when the file is created; kvm_gmem_get_supported_flags
    // offers INIT_SHARED only when kvm_arch_supports_gmem_init_shared (no private memory).
    [Theory]
    [InlineData(VmType.Snp)]
    [InlineData(VmType.Tdx)]
    public void A_confidential_VM_file_refuses_no_direct_map_and_init_shared_at_creation(VmType vm)
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelProcess p = k.CreateProcess();

        Assert.Equal(Errno.EINVAL, k.GmemCreate(p, 8, GmemFlags.NoDirectMap, vm, out _));
        Assert.Equal(Errno.EINVAL, k.GmemCreate(p, 8, GmemFlags.Mmap | GmemFlags.InitShared, vm, out _));
        Assert.Equal(0, k.GmemCreate(p, 8, GmemFlags.Mmap, vm, out KernelFile? file));
        Assert.Equal(vm, file!.Vm);
    }

    // kvm_gmem_populate: filemap_invalidate_lock (exclusive) around the loop; -EEXIST for a folio
    // already prepared; post_populate copies through the direct map (SNP kmap_local_page + memcpy).
    [Fact]
    public void Kvm_gmem_populate_copies_once_under_the_exclusive_invalidate_lock()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        Assert.Equal(0, k.GmemCreate(k.CreateProcess(), 8, GmemFlags.None, VmType.Snp, out KernelFile? file));

        PathResult first = k.Populate(0, file!, 3, PopulationPath.GmemPopulate);
        long lockFreeAt = file!.InvalidateLock.WriterFreeAtNs;
        PathResult again = k.Populate(1, file, 3, PopulationPath.GmemPopulate);

        Assert.True(first.Ok);
        Assert.Equal(k.Clock(0), lockFreeAt);
        Assert.Equal(Errno.EEXIST, again.Error);
        Assert.True(k.Clock(1) >= lockFreeAt); // CPU 1 waited for CPU 0's exclusive hold
        Assert.Equal(1, k.TotalCounters().CopiedPages);
        Assert.Equal(0, k.TotalCounters().DirectMapZaps);
        Assert.Equal(0, k.Checker.Total);
    }

    // mm/memory.c: vm_mixed_zeropage_allowed is false for a writable (VM_MAYWRITE) non-COW mapping;
    // guest_memfd and secretmem mappings are always shared and their files O_RDWR.
    [Fact]
    public void The_shared_zero_page_is_never_allowed_for_guest_memfd_or_secretmem_mappings()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 4, out KernelFile? secret));

        Assert.False(SimKernel.ZeroPageAllowed(KernelFixture.Gmem(k, 8)));
        Assert.False(SimKernel.ZeroPageAllowed(KernelFixture.Gmem(k, 8, GmemFlags.Mmap | GmemFlags.InitShared)));
        Assert.False(SimKernel.ZeroPageAllowed(secret!));
    }
}
