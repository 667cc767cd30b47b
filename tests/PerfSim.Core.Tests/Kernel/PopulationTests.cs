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
    public void GUP_and_mlock_refuse_no_direct_map_mappings()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        KernelFile ndm = KernelFixture.Gmem(k, 8);
        KernelFile plain = KernelFixture.Gmem(k, 8, GmemFlags.Mmap);

        Assert.Equal(Errno.EFAULT, k.Gup(0, ndm, 1, fast: true));
        Assert.Equal(Errno.EFAULT, k.Gup(0, ndm, 1, fast: false));
        Assert.Equal(0, k.Gup(0, plain, 1, fast: true));
        Assert.False(k.Mlock(0, ndm));
        Assert.True(k.Mlock(0, plain));
        Assert.Equal((2L, 1L), (k.TotalCounters().GupRefused, k.TotalCounters().MlockSkipped));
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
