using System.Globalization;
using PerfSim.Core.Host;

namespace PerfSim.Core.PageTables;

/// <summary>One boot-time mapping: a single 1G or 2M leaf, or a run of 4K PTEs.</summary>
/// <param name="Cont">arm64: the entries belong to contiguous groups (CONT_PMD of 16 × 2M, CONT_PTE
/// of 16 × 4K) and carry PTE_CONT.</param>
public readonly record struct BootMapping(long StartPfn, long Pages, PageLevel Level, bool Cont = false);

/// <summary>
/// How the kernel lays out the linear map at boot.
/// </summary>
/// <remarks>
/// <para>x86-64 (<c>init_memory_mapping</c>/<c>split_mem_range</c>, arch/x86/mm/init.c): each RAM
/// range is mapped with the largest naturally aligned page that fits inside it: 4K up to the first
/// 2M boundary, 2M up to the first 1G boundary, 1G leaves while a whole aligned GiB is RAM and
/// GBPAGES is on, then 2M and 4K at the tail. Holes are not mapped.</para>
/// <para>arm64 (<c>map_mem</c>, arch/arm64/mm/mmu.c): with <c>force_pte_mapping()</c> (rodata=full
/// without BBML2_NOABORT) every page is a 4K PTE with no contiguous hint; with BBML2 the map uses
/// PUD and PMD sections and contiguous groups where aligned (CONT_PMD = 16 × 2M, CONT_PTE = 16 × 4K).</para>
/// </remarks>
public static class DirectMapBoot
{
    /// <summary>Entries in an arm64 contiguous group with a 4K granule (CONT_PTES, CONT_PMDS).</summary>
    public const long ContEntries = 16;

    public static IEnumerable<BootMapping> Plan(MemoryLayout layout, DirectMapProfile profile)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(profile);
        foreach (RamRange range in layout.Ranges)
        {
            foreach (BootMapping m in PlanRange(range.StartPfn, range.EndPfn, profile))
            {
                yield return m;
            }
        }
    }

    /// <summary>
    /// A boot plan that reproduces the DirectMap4k/2M/1G totals a user read from /proc/meminfo, on
    /// RAM from pfn 0: 1G leaves first, then 2M leaves, then 4K PTEs (whole 2M regions, then a
    /// partial tail). Where the totals came from a running system, its 4K share is what splits left
    /// behind; the placement is canonical because meminfo does not say where the entries are.
    /// </summary>
    public static (MemoryLayout Layout, IReadOnlyList<BootMapping> Plan) FromMeminfoTotals(long directMap4kKb, long directMap2MKb, long directMap1GKb, DirectMapProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Require(directMap4kKb, 4, "DirectMap4k");
        Require(directMap2MKb, 2048, "DirectMap2M");
        Require(directMap1GKb, 1048576, "DirectMap1G");
        if (directMap1GKb > 0 && !profile.GbPages)
        {
            throw new ArgumentException("DirectMap1G is non-zero but 1G pages are off (gbpages)");
        }

        if (profile.Mode == DirectMapMode.Arm64PteOnly && directMap2MKb + directMap1GKb > 0)
        {
            throw new ArgumentException("an arm64 PTE-only linear map has only 4 KiB entries: DirectMap2M and DirectMap1G must be 0");
        }

        long n1G = directMap1GKb / 1048576;
        long n2M = directMap2MKb / 2048;
        long n4K = directMap4kKb / 4;
        if (n1G + n2M + n4K == 0)
        {
            throw new ArgumentException("DirectMap4k, DirectMap2M and DirectMap1G are all 0");
        }

        var plan = new List<BootMapping>();
        long pfn = 0;
        for (long i = 0; i < n1G; i++, pfn += PageGeometry.PagesPer1G)
        {
            plan.Add(new BootMapping(pfn, PageGeometry.PagesPer1G, PageLevel.Level1G));
        }

        for (long i = 0; i < n2M; i++, pfn += PageGeometry.PagesPer2M)
        {
            plan.Add(new BootMapping(pfn, PageGeometry.PagesPer2M, PageLevel.Level2M));
        }

        if (n4K > 0)
        {
            plan.Add(new BootMapping(pfn, n4K, PageLevel.Level4K));
            pfn += n4K;
        }

        return (MemoryLayout.FromSize(pfn * PageGeometry.PageSize), plan);
    }

    private static void Require(long kb, long unitKb, string field)
    {
        if (kb < 0 || kb % unitKb != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{field} must be a non-negative multiple of {unitKb} kB, got {kb}"));
        }
    }

    private static IEnumerable<BootMapping> PlanRange(long start, long end, DirectMapProfile profile)
    {
        bool blocks = profile.Mode != DirectMapMode.Arm64PteOnly;
        bool cont = profile.Mode == DirectMapMode.Arm64Bbml2;
        long pfn = start;
        while (pfn < end)
        {
            if (blocks && profile.GbPages && Fits(pfn, end, PageGeometry.PagesPer1G))
            {
                yield return new BootMapping(pfn, PageGeometry.PagesPer1G, PageLevel.Level1G);
                pfn += PageGeometry.PagesPer1G;
            }
            else if (blocks && Fits(pfn, end, PageGeometry.PagesPer2M))
            {
                long group = PageGeometry.PagesPer2M * ContEntries;
                bool inGroup = cont && Fits(pfn & ~(group - 1), end, group) && (pfn & ~(group - 1)) >= start;
                yield return new BootMapping(pfn, PageGeometry.PagesPer2M, PageLevel.Level2M, inGroup);
                pfn += PageGeometry.PagesPer2M;
            }
            else
            {
                // A run of 4K PTEs up to the next 2M boundary (or the range end); with BBML2, the
                // aligned 64 KiB groups inside it get the contiguous hint.
                long runEnd = Math.Min(end, (pfn + PageGeometry.PagesPer2M) & ~(PageGeometry.PagesPer2M - 1));
                while (pfn < runEnd)
                {
                    if (cont && Fits(pfn, runEnd, ContEntries))
                    {
                        long contEnd = pfn + ((runEnd - pfn) & ~(ContEntries - 1));
                        yield return new BootMapping(pfn, contEnd - pfn, PageLevel.Level4K, Cont: true);
                        pfn = contEnd;
                    }
                    else
                    {
                        long next = cont ? Math.Min(runEnd, (pfn + ContEntries) & ~(ContEntries - 1)) : runEnd;
                        yield return new BootMapping(pfn, next - pfn, PageLevel.Level4K);
                        pfn = next;
                    }
                }
            }
        }
    }

    /// <summary>An aligned page of <paramref name="pages"/> starting at <paramref name="pfn"/> fits before <paramref name="end"/>.</summary>
    private static bool Fits(long pfn, long end, long pages) => (pfn & (pages - 1)) == 0 && pfn + pages <= end;
}
