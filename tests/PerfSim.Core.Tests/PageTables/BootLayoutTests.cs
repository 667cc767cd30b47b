using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.PageTables;

public sealed class BootLayoutTests
{
    /// <summary>A typical PC layout: low RAM below the legacy hole, then RAM from 1 MiB to 3 GiB +
    /// 5 MiB + 12 KiB.</summary>
    internal static readonly MemoryLayout PcLayout = MemoryLayout.FromByteRanges([
        (0, 0x9fc00),
        (0x100000, 3 * PageGeometry.GiB + 5 * PageGeometry.MiB + 12 * 1024),
    ]);

    [Fact]
    public void X86_uses_1G_where_a_whole_aligned_GiB_is_RAM_then_2M_then_4K_at_the_edges()
    {
        using var host = new TestHost(PcLayout, DirectMapProfile.X86);

        // 4K: 159 low pages + 256 pages from 1 MiB to 2 MiB + 259 tail pages.
        // 2M: 511 from 2 MiB to 1 GiB + 2 in the tail. 1G: [1 GiB, 3 GiB).
        Assert.Equal(new DirectMapCounts(674, 513, 2), host.DirectMap.Counts);
        Assert.Equal(PcLayout.RamBytes, host.DirectMap.Counts.MappedBytes);
        Assert.True(host.DirectMap.Lookup(0x9f).IsHole, "the legacy hole is not mapped");
        Assert.Equal(PageLevel.Level4K, host.DirectMap.Lookup(0x100).Level);
    }

    [Fact]
    public void Without_gbpages_the_1G_ranges_are_2M_leaves()
    {
        using var host = new TestHost(PcLayout, DirectMapProfile.X86 with { GbPages = false });

        Assert.Equal(new DirectMapCounts(674, 513 + 1024, 0), host.DirectMap.Counts);
    }

    [Fact]
    public void Arm64_without_BBML2_maps_everything_with_PTEs()
    {
        using var host = new TestHost(MemoryLayout.FromSize(2 * PageGeometry.GiB), DirectMapProfile.Arm64);

        Assert.Equal(new DirectMapCounts(2 * PageGeometry.PagesPer1G, 0, 0), host.DirectMap.Counts);
        Assert.Equal(PteFlags.None, host.DirectMap.Lookup(12345).Flags & PteFlags.Cont);
    }

    [Fact]
    public void Arm64_with_BBML2_uses_sections_and_contiguous_groups_where_aligned()
    {
        // 1 GiB + 40 MiB + 80 KiB: one PUD section, one 32 MiB CONT_PMD group, 4 lone 2M sections,
        // one 64 KiB CONT_PTE group and 4 lone PTEs.
        long bytes = PageGeometry.GiB + 40 * PageGeometry.MiB + 80 * 1024;
        using var host = new TestHost(MemoryLayout.FromSize(bytes), DirectMapProfile.Arm64Bbml2);
        DirectMap dm = host.DirectMap;

        Assert.Equal(new DirectMapCounts(20, 20, 1), dm.Counts);
        Assert.Equal(PteFlags.Cont, dm.Lookup(PageGeometry.PagesPer1G).Flags & PteFlags.Cont);
        Assert.Equal(PteFlags.None, dm.Lookup(PageGeometry.PagesPer1G + 16 * PageGeometry.PagesPer2M).Flags & PteFlags.Cont);
        long tail = PageGeometry.PagesPer1G + 20 * PageGeometry.PagesPer2M;
        Assert.Equal(PteFlags.Cont, dm.Lookup(tail).Flags & PteFlags.Cont);
        Assert.Equal(PteFlags.None, dm.Lookup(tail + 16).Flags & PteFlags.Cont);
    }

    [Fact]
    public void A_layout_from_meminfo_totals_reproduces_them()
    {
        var (layout, plan) = DirectMapBoot.FromMeminfoTotals(directMap4kKb: 1_234_564, directMap2MKb: 20_480, directMap1GKb: 3_145_728, DirectMapProfile.X86);
        using var host = new TestHost(layout, DirectMapProfile.X86, plan);

        DirectMapCounts c = host.DirectMap.Counts;
        Assert.Equal((1_234_564L, 20_480L, 3_145_728L), (c.DirectMap4k, c.DirectMap2M, c.DirectMap1G));
    }

    [Theory]
    [InlineData(6, 0, 0)]
    [InlineData(4, 1000, 0)]
    [InlineData(4, 0, 5)]
    [InlineData(-4, 0, 0)]
    [InlineData(0, 0, 0)]
    public void Meminfo_totals_that_cannot_exist_are_refused(long k4, long k2, long k1)
    {
        Assert.Throws<ArgumentException>(() => DirectMapBoot.FromMeminfoTotals(k4, k2, k1, DirectMapProfile.X86));
    }
}
