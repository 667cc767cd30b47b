using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.PageTables;

/// <summary>
/// Seeded random zap/restore sequences on x86, checked after every step against a plain
/// per-4K-page reference: one protection byte per page, one "split" bool per 1G and 2M region,
/// and the rules of arch/x86/mm/pat/set_memory.c (__change_page_attr, __split_large_page) written as directly as possible.
/// </summary>
public sealed class ReferenceModelTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Random_sequences_match_the_reference_step_by_step(int seed, bool gbPages)
    {
        // 2 GiB + 6 MiB + 20 KiB of RAM from 1 MiB, with a 4 MiB hole at 1 GiB: every kind of leaf.
        MemoryLayout layout = MemoryLayout.FromByteRanges([
            (PageGeometry.MiB, PageGeometry.GiB),
            (PageGeometry.GiB + 4 * PageGeometry.MiB, 2 * PageGeometry.GiB + 6 * PageGeometry.MiB + 20 * 1024),
        ]);
        DirectMapProfile profile = DirectMapProfile.X86 with { GbPages = gbPages };
        using var host = new TestHost(layout, profile);
        var reference = new ReferenceDirectMap(layout, gbPages);
        DirectMap dm = host.DirectMap;
        var rng = new Random(seed);
        long mappedBytes = dm.Counts.MappedBytes;
        AssertSame(reference, dm, 0, layout.EndPfn, "boot");

        for (int step = 0; step < 400; step++)
        {
            (long pfn, long pages, int op) = NextOp(rng, dm.EndPfn);
            bool failSplit = rng.Next(20) == 0;
            if (failSplit)
            {
                host.PageTables.FailNext(1);
            }

            CpaResult actual = op switch
            {
                0 => dm.SetInvalidNoFlush(0, pfn),
                1 => dm.SetDefaultNoFlush(0, pfn),
                2 => dm.SetValidNoFlush(0, pfn, pages, valid: false),
                _ => dm.SetValidNoFlush(0, pfn, pages, valid: true),
            };
            int expected = op switch
            {
                0 => reference.Change(pfn, 1, PteFlags.None, PteFlags.Present | PteFlags.Rw | PteFlags.Dirty, failSplit),
                1 => reference.Change(pfn, 1, PteFlags.Present | PteFlags.Rw, PteFlags.None, failSplit),
                2 => reference.Change(pfn, pages, PteFlags.None, PteFlags.Present | PteFlags.Rw | PteFlags.Dirty, failSplit),
                _ => reference.Change(pfn, pages, PteFlags.Present | PteFlags.Rw, PteFlags.None, failSplit),
            };
            host.PageTables.FailNext(0);

            string where = $"seed {seed} step {step}: op {op} pfn {pfn} pages {pages} failSplit {failSplit}";
            Assert.True(expected == actual.Error, $"{where}: error {actual.Error}, reference {expected}");
            Assert.True(mappedBytes == dm.Counts.MappedBytes, $"{where}: DirectMap bytes not conserved");
            Assert.True(reference.Counts == dm.Counts, $"{where}: counts {dm.Counts} vs reference {reference.Counts}");
            Assert.True(reference.Splits2M == dm.Level2Splits && reference.Splits1G == dm.Level3Splits, $"{where}: split counters");
            Assert.True(reference.Splits2M + reference.Splits1G == dm.PageTablePages, $"{where}: one table page per split");
            Assert.True(dm.PageTablePages == dm.GlobalFlushes, $"{where}: one global flush per split");
            Assert.True(reference.BootPteRegions + reference.Splits2M == dm.PteTableCount, $"{where}: {dm.PteTableCount} PTE tables, not one per 4K region");
            AssertSame(reference, dm, Math.Max(0, pfn - 600), Math.Min(dm.EndPfn, pfn + pages + 600), where);
        }

        AssertSame(reference, dm, 0, layout.EndPfn, $"seed {seed} final");
    }

    private static (long Pfn, long Pages, int Op) NextOp(Random rng, long endPfn)
    {
        int op = rng.Next(4);
        long pages = rng.Next(5) switch
        {
            0 => PageGeometry.PagesPer2M,
            1 => rng.Next(1, 40),
            2 => rng.Next(1, 1500),
            3 => 1,
            _ => PageGeometry.PagesPer2M * rng.Next(1, 4),
        };
        long pfn = rng.Next(3) == 0
            ? rng.NextInt64(endPfn / PageGeometry.PagesPer2M) * PageGeometry.PagesPer2M
            : rng.NextInt64(endPfn);
        return (pfn, Math.Min(pages, endPfn - pfn), op);
    }

    private static void AssertSame(ReferenceDirectMap reference, DirectMap dm, long from, long to, string where)
    {
        for (long pfn = from; pfn < to; pfn++)
        {
            DirectMapEntry actual = dm.Lookup(pfn);
            (PageLevel level, PteFlags prot) = reference.Entry(pfn);
            if (actual.Level != level || (actual.Flags & PteFlags.ProtMask) != prot)
            {
                Assert.Fail($"{where}: pfn {pfn} is {actual.Level}/{actual.Flags & PteFlags.ProtMask}, reference {level}/{prot}");
            }
        }
    }

    /// <summary>The reference: plain managed arrays, the kernel rules spelled out.</summary>
    private sealed class ReferenceDirectMap
    {
        private readonly PageLevel[] _bootLevel;
        private readonly PteFlags[] _prot;
        private readonly bool[] _split1G;
        private readonly bool[] _split2M;

        public ReferenceDirectMap(MemoryLayout layout, bool gbPages)
        {
            long end = layout.EndPfn;
            _bootLevel = new PageLevel[end];
            _prot = new PteFlags[end];
            _split1G = new bool[(end >> 18) + 1];
            _split2M = new bool[(end >> 9) + 1];
            foreach (RamRange r in layout.Ranges)
            {
                for (long p = r.StartPfn; p < r.EndPfn;)
                {
                    PageLevel level = gbPages && p % PageGeometry.PagesPer1G == 0 && p + PageGeometry.PagesPer1G <= r.EndPfn ? PageLevel.Level1G
                        : p % PageGeometry.PagesPer2M == 0 && p + PageGeometry.PagesPer2M <= r.EndPfn ? PageLevel.Level2M
                        : PageLevel.Level4K;
                    for (long i = 0; i < level.Pages(); i++)
                    {
                        _bootLevel[p + i] = level;
                        _prot[p + i] = DirectMap.PageKernel;
                    }

                    p += level.Pages();
                }
            }
        }

        public long Splits1G { get; private set; }

        /// <summary>2 MiB regions with a 4K mapping at boot: each has a PTE table from the start.</summary>
        public long BootPteRegions => Enumerable.Range(0, _bootLevel.Length).Where(p => _bootLevel[p] == PageLevel.Level4K).Select(p => p >> 9).Distinct().LongCount();

        public long Splits2M { get; private set; }

        public DirectMapCounts Counts
        {
            get
            {
                long e4 = 0, e2 = 0, e1 = 0;
                for (long p = 0; p < _prot.Length; p++)
                {
                    switch (LevelOf(p))
                    {
                        case PageLevel.Level4K: e4++; break;
                        case PageLevel.Level2M when p % PageGeometry.PagesPer2M == 0: e2++; break;
                        case PageLevel.Level1G when p % PageGeometry.PagesPer1G == 0: e1++; break;
                    }
                }

                return new DirectMapCounts(e4, e2, e1);
            }
        }

        public (PageLevel Level, PteFlags Prot) Entry(long pfn) =>
            LevelOf(pfn) == PageLevel.None ? (PageLevel.None, PteFlags.None) : (LevelOf(pfn), _prot[pfn]);

        private PageLevel LevelOf(long pfn)
        {
            PageLevel level = _bootLevel[pfn];
            if (level == PageLevel.Level1G && _split1G[pfn >> 18])
            {
                level = PageLevel.Level2M;
            }

            if (level == PageLevel.Level2M && _split2M[pfn >> 9])
            {
                level = PageLevel.Level4K;
            }

            return level;
        }

        /// <summary>Returns 0 or -ENOMEM, like the kernel.</summary>
        public int Change(long pfn, long pages, PteFlags set, PteFlags clear, bool failSplit)
        {
            long end = pfn + pages;
            long p = pfn;
            while (p < end)
            {
                PageLevel level = LevelOf(p);
                if (level == PageLevel.None)
                {
                    p++;
                    continue;
                }

                long size = level.Pages();
                long basePfn = p - (p % size);
                PteFlags wanted = Apply(_prot[basePfn], set, clear);
                long clip = Math.Min(end, basePfn + size) - p;
                if (wanted == _prot[basePfn])
                {
                    p += level == PageLevel.Level4K ? 1 : clip;
                    continue;
                }

                if (level != PageLevel.Level4K && (p != basePfn || clip < size))
                {
                    if (failSplit)
                    {
                        return Errno.ENOMEM;
                    }

                    // Split: children keep the protection, GLOBAL only if present.
                    PteFlags child = _prot[basePfn];
                    child = (child & PteFlags.Present) != 0 ? child | PteFlags.Global : child & ~PteFlags.Global;
                    for (long i = basePfn; i < basePfn + size; i++)
                    {
                        _prot[i] = child;
                    }

                    if (level == PageLevel.Level1G)
                    {
                        _split1G[basePfn >> 18] = true;
                        Splits1G++;
                    }
                    else
                    {
                        _split2M[basePfn >> 9] = true;
                        Splits2M++;
                    }

                    continue;
                }

                long count = level == PageLevel.Level4K ? 1 : size;
                for (long i = basePfn; i < basePfn + count; i++)
                {
                    _prot[i] = wanted;
                }

                p += level == PageLevel.Level4K ? 1 : clip;
            }

            return 0;
        }

        private static PteFlags Apply(PteFlags old, PteFlags set, PteFlags clear)
        {
            PteFlags prot = (old & ~clear) | set;
            return (prot & PteFlags.Present) == 0 ? prot & ~PteFlags.Global : prot;
        }
    }
}
