using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>How the VMM can fill guest memory under each design, and what must refuse.</summary>
public sealed class PopulationTests
{
    [Fact]
    public void Per_folio_write_through_the_direct_map_works_once_then_is_refused()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelFile f = KernelFixture.Gmem(k, 16);

        PathResult first = k.Populate(0, f, 3, PopulationPath.WriteDirectMap);
        PathResult second = k.Populate(0, f, 3, PopulationPath.WriteDirectMap);

        Assert.True(first.Ok);
        Assert.Equal(Errno.EPERM, second.Error);
        Assert.Equal(1, k.TotalCounters().WriteRefused);
        Assert.Equal(1, k.TotalCounters().DirectMapZaps);
        Assert.Equal(0, k.Checker.Total);
    }

    [Theory]
    [InlineData(Strategy.Filemap)]
    [InlineData(Strategy.UnmappedAlloc)]
    public void Designs_without_a_direct_map_alias_refuse_write_through_it_but_accept_the_mermap(Strategy strategy)
    {
        using SimKernel k = KernelFixture.Create(strategy);
        KernelFile f = KernelFixture.Gmem(k, 64);

        Assert.Equal(Errno.EOPNOTSUPP, k.Populate(0, f, 0, PopulationPath.WriteDirectMap).Error);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(k.Populate(0, f, i, PopulationPath.WriteMermap).Ok);
        }

        Assert.Equal(64, k.TotalCounters().PopulatedPages);
        Assert.True(k.TotalCounters().MermapGets >= 64);
        Assert.Equal(0, k.Checker.Total);
    }

    [Fact]
    public void Memcpy_population_takes_a_user_fault_per_page_and_needs_the_mmap_flags()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolioV12);
        KernelFile mapped = KernelFixture.Gmem(k, 32);
        KernelFile unmapped = KernelFixture.Gmem(k, 32, GmemFlags.NoDirectMap);

        for (int i = 0; i < 32; i++)
        {
            Assert.True(k.Populate(1, mapped, i, PopulationPath.Memcpy).Ok);
        }

        Assert.Equal(Errno.EFAULT, k.Populate(1, unmapped, 0, PopulationPath.Memcpy).Error);
        Assert.Equal(32, k.TotalCounters().UserFaults); // the refused one is a SIGBUS, not a fault
        Assert.Equal(32, k.TotalCounters().DirectMapZaps);
    }

    [Fact]
    public void Kvm_gmem_populate_is_refused_for_no_direct_map_and_copies_through_the_direct_map_otherwise()
    {
        using SimKernel ndm = KernelFixture.Create(Strategy.PerFolio);
        using SimKernel plain = KernelFixture.Create(Strategy.None);

        Assert.Equal(Errno.EINVAL, ndm.Populate(0, KernelFixture.Gmem(ndm, 8), 0, PopulationPath.GmemPopulate).Error);
        Assert.True(plain.Populate(0, KernelFixture.Gmem(plain, 8), 0, PopulationPath.GmemPopulate).Ok);
        Assert.Equal(1, ndm.TotalCounters().PopulateRefused);
        Assert.Equal(1, plain.TotalCounters().CopiedPages);
    }

    [Fact]
    public void GUP_mlock_and_the_zero_page_refuse_no_direct_map_mappings()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        KernelFile ndm = KernelFixture.Gmem(k, 8);
        KernelFile plain = KernelFixture.Gmem(k, 8, GmemFlags.Mmap);

        Assert.Equal(Errno.EFAULT, k.Gup(0, ndm, 1, fast: true));
        Assert.Equal(Errno.EFAULT, k.Gup(0, ndm, 1, fast: false));
        Assert.Equal(0, k.Gup(0, plain, 1, fast: true));
        Assert.False(k.Mlock(0, ndm));
        Assert.True(k.Mlock(0, plain));
        Assert.False(SimKernel.ZeroPageAllowed(ndm));
        Assert.True(SimKernel.ZeroPageAllowed(plain));
        Assert.Equal((2L, 1L), (k.TotalCounters().GupRefused, k.TotalCounters().MlockSkipped));
    }

    [Fact]
    public void Migrating_a_zapped_folio_copies_through_the_direct_map_and_oopses_while_the_baseline_migrates_cleanly()
    {
        using SimKernel ndm = KernelFixture.Create(Strategy.PerFolio);
        using SimKernel plain = KernelFixture.Create(Strategy.None);
        KernelFile zapped = KernelFixture.Gmem(ndm, 4);
        KernelFile kept = KernelFixture.Gmem(plain, 4);
        ndm.GmemGetPfn(0, zapped, 1);
        long before = plain.GmemGetPfn(0, kept, 1).Pfn;

        PathResult broken = ndm.MigrateFolio(0, zapped, 1);
        PathResult moved = plain.MigrateFolio(0, kept, 1);

        Assert.True(broken.Ok);
        Assert.Equal(1, ndm.Checker.Count(PerfSim.Core.Invariants.ViolationKind.Oops));
        Assert.Contains("folio_mc_copy", ndm.Checker.Recorded[0].ToString(), StringComparison.Ordinal);
        Assert.True(moved.Ok);
        Assert.NotEqual(before, moved.Pfn);
        Assert.Equal(0, plain.Checker.Total);
        Assert.True(plain.PageCache.TryLookup(kept.Mapping, 1, out var folio) && folio.Pfn == moved.Pfn);
        KernelFixture.AssertConserved(plain, 1);
    }

    [Fact]
    public void Secretmem_refuses_migration()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 4, out KernelFile? file));
        k.SecretmemFault(0, file!, 0);

        Assert.Equal(Errno.EBUSY, k.MigrateFolio(0, file!, 0).Error);
        Assert.Equal(0, k.Checker.Total);
    }
}
