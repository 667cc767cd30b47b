using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

/// <summary>Seeded random fills, lookups and flushes checked step by step against a naive TLB that
/// keeps explicit entry lists and invalidates by brute force.</summary>
public class TlbOracleTests
{
    /// <param name="deferMasks">Quantum mode's deferred region masks: owner operations only queue
    /// their mask changes, so every result must still match (the masks are hints).</param>
    [Theory]
    [InlineData(1, 3, false, 20_000, false)]
    [InlineData(7, 5, false, 20_000, false)]
    [InlineData(42, 70, false, 6_000, false)]  // two bitmask words
    [InlineData(1234, 130, true, 4_000, false)] // three words, unified array
    [InlineData(8, 5, false, 20_000, true)]
    [InlineData(43, 70, false, 6_000, true)]
    [InlineData(1235, 130, true, 4_000, true)]
    public void Random_operations_match_the_naive_model(int seed, int cpus, bool unified, int steps, bool deferMasks)
    {
        TlbGeometry geometry = unified ? TestGeometries.Unified : TestGeometries.Tiny;
        const long endPfn = 3L << 18;
        using var tlb = new TlbModel(cpus, endPfn, geometry) { DeferRegionMasks = deferMasks };
        var naive = new NaiveTlb(cpus, geometry);
        var rng = new Random(seed);
        int[] hotCpus = [0, 1 % cpus, cpus / 2, cpus - 1];
        for (int step = 0; step < steps; step++)
        {
            // A few hot CPUs (including ones in the last bitmask word) get most operations, and pfns
            // cluster around hot spots (one across a 1G boundary) so entries of all sizes overlap.
            int cpu = rng.Next(3) == 0 ? rng.Next(cpus) : hotCpus[rng.Next(hotCpus.Length)];
            int spread = rng.Next(2) == 0 ? 40 : 3000;
            long pfn = Math.Clamp((rng.Next(3) << 18) + 144 + rng.Next(-spread, spread), 0, endPfn - 1);
            int op = rng.Next(100);
            string where = $"seed {seed} step {step} op {op} cpu {cpu} pfn {pfn}";
            if (op < 45)
            {
                bool present = rng.Next(4) != 0;
                TlbLookup got = tlb.Lookup(cpu, pfn, present);
                PageLevel expected = naive.Lookup(cpu, pfn);
                Assert.True(expected == got.Level, $"{where}: lookup {got.Level}, naive {expected}");
                Assert.Equal(got.Hit && !present, got.Stale);
            }
            else if (op < 85)
            {
                var level = (PageLevel)(1 + rng.Next(3));
                tlb.Fill(cpu, pfn, level);
                naive.Fill(cpu, pfn, level);
            }
            else if (op < 97)
            {
                long pages = Math.Min(rng.Next(4) == 0 ? rng.Next(1, 700) : rng.Next(1, 40), endPfn - pfn);
                int only = rng.Next(5) == 0 ? cpu : -1;
                StaleTally got = tlb.InvalidateRange(pfn, pages, only);
                StaleTally expected = naive.Invalidate(pfn, pages, only);
                Assert.True(expected == got, $"{where} pages {pages} only {only}: {got} vs naive {expected}");
            }
            else if (op < 98)
            {
                tlb.FlushAllCpus();
                naive.FlushAll();
            }
            else
            {
                tlb.FlushLocalAll(cpu);
                naive.FlushLocal(cpu);
            }

            if (deferMasks && rng.Next(500) == 0)
            {
                tlb.SyncRegionMasks();
            }

            if (step % 2000 == 0)
            {
                tlb.AssertInvariants();
            }
        }

        tlb.AssertInvariants();
        long hits = 0;
        for (int c = 0; c < cpus; c++)
        {
            hits += tlb.CountersOf(c).Hits;
        }

        Assert.Equal(naive.Hits, hits);
        Assert.True(hits > steps / 20, "the random walk must produce hits");
    }

    /// <summary>Reference: explicit lists per set, LRU by a per-CPU clock that ticks on every lookup
    /// and fill (as the model's does), brute-force invalidation.</summary>
    private sealed class NaiveTlb
    {
        private readonly TlbGeometry _geometry;
        private readonly List<(long Key, long Lru)>[][][] _sets; // [cpu][array][set]
        private readonly long[] _clock;

        public NaiveTlb(int cpus, TlbGeometry geometry)
        {
            _geometry = geometry;
            _clock = new long[cpus];
            _sets = new List<(long, long)>[cpus][][];
            for (int c = 0; c < cpus; c++)
            {
                _sets[c] = [.. geometry.Arrays.Select(a => Enumerable.Range(0, a.Sets).Select(_ => new List<(long, long)>()).ToArray())];
            }
        }

        public long Hits { get; private set; }

        public PageLevel Lookup(int cpu, long pfn)
        {
            long now = ++_clock[cpu];
            for (int level = 1; level <= 3; level++)
            {
                List<(long Key, long Lru)> set = SetOf(cpu, level, pfn, out long key);
                int i = set.FindIndex(e => e.Key == key);
                if (i >= 0)
                {
                    set[i] = (key, now);
                    Hits++;
                    return (PageLevel)level;
                }
            }

            return PageLevel.None;
        }

        public void Fill(int cpu, long pfn, PageLevel leaf)
        {
            long now = ++_clock[cpu];
            int level = (int)leaf;
            List<(long Key, long Lru)> set = SetOf(cpu, level, pfn, out long key);
            int i = set.FindIndex(e => e.Key == key);
            if (i >= 0)
            {
                set[i] = (key, now);
                return;
            }

            int ways = _geometry.Arrays.First(a => Holds(a, level)).Ways;
            if (set.Count == ways)
            {
                set.Remove(set.MinBy(e => e.Lru));
            }

            set.Add((key, now));
        }

        public StaleTally Invalidate(long start, long pages, int only)
        {
            long withHolders = 0, pairs = 0;
            int max = 0;
            for (long p = start; p < start + pages; p++)
            {
                int holders = 0;
                for (int c = 0; c < _sets.Length; c++)
                {
                    if ((only < 0 || c == only) && Covers(c, p))
                    {
                        holders++;
                    }
                }

                if (holders > 0)
                {
                    withHolders++;
                    pairs += holders;
                    max = Math.Max(max, holders);
                }
            }

            for (int c = 0; c < _sets.Length; c++)
            {
                if (only >= 0 && c != only)
                {
                    continue;
                }

                foreach (List<(long Key, long Lru)>[] array in _sets[c])
                {
                    foreach (List<(long Key, long Lru)> set in array)
                    {
                        set.RemoveAll(e => Overlaps(e.Key, start, start + pages));
                    }
                }
            }

            return new StaleTally(pages, withHolders, pairs, max);
        }

        public void FlushAll()
        {
            for (int c = 0; c < _sets.Length; c++)
            {
                FlushLocal(c);
            }
        }

        public void FlushLocal(int cpu)
        {
            foreach (List<(long Key, long Lru)>[] array in _sets[cpu])
            {
                foreach (List<(long Key, long Lru)> set in array)
                {
                    set.Clear();
                }
            }
        }

        private bool Covers(int cpu, long pfn)
        {
            for (int level = 1; level <= 3; level++)
            {
                if (SetOf(cpu, level, pfn, out long key).Exists(e => e.Key == key))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool Overlaps(long key, long start, long end)
        {
            int level = (int)(key & 3);
            long first = (key >> 2) << (9 * (level - 1));
            long last = first + (1L << (9 * (level - 1)));
            return first < end && start < last;
        }

        private static bool Holds(TlbArrayGeometry a, int level) =>
            level == 1 ? a.Holds4K : level == 2 ? a.Holds2M : a.Holds1G;

        private List<(long Key, long Lru)> SetOf(int cpu, int level, long pfn, out long key)
        {
            long vpn = pfn >> (9 * (level - 1));
            key = (vpn << 2) | (uint)level;
            int array = _geometry.Arrays.ToList().FindIndex(a => Holds(a, level));
            TlbArrayGeometry g = _geometry.Arrays[array];
            return _sets[cpu][array][(int)(vpn & (g.Sets - 1))];
        }
    }
}
