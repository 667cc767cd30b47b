using PerfSim.Core.Memory;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

public class TlbModelTests
{
    private const long EndPfn = 4L << 18; // 4 GiB

    private static TlbModel Skylake(int cpus = 4) => new(cpus, EndPfn, TlbGeometry.SkylakeSp);

    [Fact]
    public void Miss_then_fill_then_hit_at_each_level()
    {
        using TlbModel tlb = Skylake();
        Assert.False(tlb.Lookup(0, 1000).Hit);
        tlb.Fill(0, 1000, PageLevel.Level4K);
        Assert.Equal(PageLevel.Level4K, tlb.Lookup(0, 1000).Level);
        Assert.False(tlb.Lookup(0, 1001).Hit);

        tlb.Fill(1, 1024 + 7, PageLevel.Level2M);
        Assert.Equal(PageLevel.Level2M, tlb.Lookup(1, 1024).Level);
        Assert.Equal(PageLevel.Level2M, tlb.Lookup(1, 1535).Level);
        Assert.False(tlb.Lookup(1, 1536).Hit);

        tlb.Fill(2, 3L << 18, PageLevel.Level1G);
        Assert.Equal(PageLevel.Level1G, tlb.Lookup(2, (3L << 18) + 12345).Level);
        Assert.False(tlb.Lookup(3, 3L << 18).Hit);

        TlbCpuCounters c0 = tlb.CountersOf(0);
        Assert.Equal((1, 2, 1), (c0.Hits, c0.Misses, c0.Fills));
        TlbCpuCounters total = tlb.TotalCounters();
        Assert.Equal(4, total.Hits);
        Assert.Equal((1, 2, 1), (total.Hits4K, total.Hits2M, total.Hits1G));
    }

    [Fact]
    public void Lru_evicts_the_least_recently_used_way_of_the_set()
    {
        using TlbModel tlb = Skylake(1);
        // 128 sets, 12 ways for 4K: pfns 128 apart share a set.
        for (int i = 0; i < 12; i++)
        {
            tlb.Fill(0, i * 128L, PageLevel.Level4K);
        }

        Assert.True(tlb.Lookup(0, 0).Hit); // page 0 becomes MRU; page 128 is now LRU
        tlb.Fill(0, 12 * 128L, PageLevel.Level4K);
        Assert.Equal(PageLevel.None, tlb.PeekLevel(0, 128));
        Assert.Equal(PageLevel.Level4K, tlb.PeekLevel(0, 0));
        Assert.Equal(1, tlb.CountersOf(0).Evictions);
        tlb.AssertInvariants();
    }

    [Fact]
    public void Hit_on_a_non_present_page_counts_a_stale_access()
    {
        using TlbModel tlb = Skylake();
        tlb.Fill(1, 42, PageLevel.Level4K);
        TlbLookup hit = tlb.Lookup(1, 42, pagePresent: false);
        Assert.True(hit.Stale);
        Assert.Equal(1, tlb.CountersOf(1).StaleHits);
        Assert.False(tlb.Lookup(2, 42, pagePresent: false).Stale); // a miss walks and faults, not stale
    }

    [Fact]
    public void Invalidating_one_4K_page_drops_the_2M_and_1G_entries_covering_it()
    {
        using TlbModel tlb = Skylake();
        tlb.Fill(0, 600, PageLevel.Level2M);   // region 1 (pfns 512..1023)
        tlb.Fill(1, 600, PageLevel.Level1G);   // 1G region 0
        tlb.Fill(2, 600, PageLevel.Level4K);
        tlb.Fill(3, 601, PageLevel.Level4K);   // another page: survives

        StaleTally t = tlb.InvalidateRange(600, 1);
        Assert.Equal(new StaleTally(1, 1, 3, 3), t);
        Assert.Equal(PageLevel.None, tlb.PeekLevel(0, 1000));
        Assert.Equal(PageLevel.None, tlb.PeekLevel(1, 5));
        Assert.Equal(PageLevel.None, tlb.PeekLevel(2, 600));
        Assert.Equal(PageLevel.Level4K, tlb.PeekLevel(3, 601));
        tlb.AssertInvariants();
    }

    [Fact]
    public void A_cpu_holding_two_entries_for_one_page_counts_once()
    {
        using TlbModel tlb = Skylake();
        tlb.Fill(0, 700, PageLevel.Level2M);
        tlb.Fill(0, 700, PageLevel.Level4K);
        tlb.Fill(0, 700, PageLevel.Level1G);
        StaleTally t = tlb.InvalidateRange(699, 3);
        Assert.Equal(new StaleTally(3, 3, 3, 1), t);
        Assert.Equal(PageLevel.None, tlb.PeekLevel(0, 700));
    }

    [Fact]
    public void Full_flush_of_all_cpus_is_lazy_and_complete()
    {
        using TlbModel tlb = Skylake();
        for (int c = 0; c < 4; c++)
        {
            tlb.Fill(c, 10 + c, PageLevel.Level4K);
            tlb.Fill(c, 5000, PageLevel.Level2M);
        }

        tlb.FlushAllCpus();
        for (int c = 0; c < 4; c++)
        {
            Assert.False(tlb.Lookup(c, 10 + c).Hit);
            Assert.False(tlb.Lookup(c, 5000).Hit);
            Assert.Equal(1, tlb.CountersOf(c).FullFlushes);
        }

        // Stale bitmask bits are cleaned by the next ranged flush and count nobody.
        Assert.Equal(new StaleTally(1, 0, 0, 0), tlb.InvalidateRange(5000, 1));
        tlb.AssertInvariants();
    }

    [Fact]
    public void Local_full_flush_touches_only_its_cpu()
    {
        using TlbModel tlb = Skylake();
        tlb.Fill(0, 77, PageLevel.Level4K);
        tlb.Fill(1, 77, PageLevel.Level4K);
        tlb.FlushLocalAll(0);
        Assert.False(tlb.Lookup(0, 77).Hit);
        Assert.True(tlb.Lookup(1, 77).Hit);
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(77, 1));
    }

    [Fact]
    public void Ranged_invalidation_can_be_limited_to_one_cpu()
    {
        using TlbModel tlb = Skylake();
        tlb.Fill(0, 77, PageLevel.Level4K);
        tlb.Fill(1, 77, PageLevel.Level4K);
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(77, 1, onlyCpu: 1));
        Assert.True(tlb.Lookup(0, 77).Hit);
        Assert.False(tlb.Lookup(1, 77).Hit);
    }

    [Fact]
    public void With_deferred_masks_cpus_on_many_threads_fill_and_flush_their_own_entries_and_a_later_flush_finds_every_holder()
    {
        const int cpus = 70; // two mask words
        using TlbModel tlb = Skylake(cpus);
        tlb.DeferRegionMasks = true;
        // Every CPU works in the same two 2M regions, as CPUs faulting neighbouring pfns do: CPU c
        // fills 8 pages of its own and invalidates (its own TLB only) the even ones.
        Parallel.For(0, cpus, new ParallelOptions { MaxDegreeOfParallelism = 4 }, c =>
        {
            for (int i = 0; i < 8; i++)
            {
                long pfn = 1000 + (c * 8) + i;
                tlb.Fill(c, pfn, PageLevel.Level4K);
                if (i % 2 == 0)
                {
                    Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(pfn, 1, onlyCpu: c));
                }
            }
        });

        // The masks were not written while the CPUs ran; the flush of everyone syncs them first.
        StaleTally all = tlb.InvalidateRange(1000, cpus * 8);
        Assert.Equal(new StaleTally(cpus * 8, cpus * 4, cpus * 4, 1), all);
        tlb.AssertInvariants();
        Assert.Equal(new StaleTally(cpus * 8, 0, 0, 0), tlb.InvalidateRange(1000, cpus * 8));
    }

    [Fact]
    public void Epoch_and_clock_wrap_keep_the_model_exact()
    {
        using TlbModel tlb = Skylake(2);
        tlb.SetEpochForTest(0, uint.MaxValue - 1);
        tlb.Fill(0, 5, PageLevel.Level4K);
        tlb.FlushLocalAll(0);            // epoch uint.MaxValue
        Assert.False(tlb.Lookup(0, 5).Hit);
        tlb.Fill(0, 6, PageLevel.Level4K);
        tlb.FlushLocalAll(0);            // wraps to 0 -> entries cleared, epoch 1
        Assert.False(tlb.Lookup(0, 6).Hit);
        tlb.Fill(0, 7, PageLevel.Level4K);
        Assert.True(tlb.Lookup(0, 7).Hit);
        tlb.AssertInvariants();

        tlb.SetEpochForTest(1, 65535);
        tlb.Fill(1, 9, PageLevel.Level4K);
        tlb.FlushLocalAll(1);            // low 16 bits wrap: region table wiped
        tlb.Fill(1, 9, PageLevel.Level4K);
        tlb.AssertInvariants();
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(9, 1));

        tlb.SetClockForTest(1, uint.MaxValue - 1);
        tlb.Fill(1, 10, PageLevel.Level4K);
        tlb.Fill(1, 11, PageLevel.Level4K);
        Assert.True(tlb.Lookup(1, 10).Hit);
        Assert.True(tlb.Lookup(1, 11).Hit);
    }

    [Fact]
    public void Out_of_range_arguments_fail_loudly()
    {
        using TlbModel tlb = Skylake(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => tlb.Lookup(0, EndPfn));
        Assert.Throws<ArgumentOutOfRangeException>(() => tlb.Lookup(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tlb.Fill(0, 0, PageLevel.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => tlb.InvalidateRange(EndPfn - 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TlbModel(TlbModel.MaxCpus + 1, 10, TlbGeometry.SkylakeSp));
        Assert.Throws<ArgumentException>(() => new TlbModel(1, 10, new TlbGeometry("bad", "", [new TlbArrayGeometry(3, 2, true, true, true)])));
    }

    [Fact]
    public void Per_frame_native_memory_stays_under_4_bytes_for_1_TiB_and_1024_cpus()
    {
        long frames = PageGeometry.TiB / PageGeometry.PageSize;
        using var tlb = new TlbModel(TlbModel.MaxCpus, frames, TlbGeometry.SkylakeSp);
        Assert.True((double)tlb.NativeBytes / frames < 0.002, $"{tlb.NativeBytes} B before any use");
        // Every CPU run and every region held: what the arrays allocated on use come to at most.
        tlb.AllocateEverythingForTest();
        double perFrame = (double)tlb.NativeBytes / frames;
        Assert.True(perFrame < 1.0, $"{perFrame:F3} bytes per frame");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "NativeMemory";
}

[Collection(NativeMemoryCollection.Name)]
public class TlbNativeMemoryTests
{
    [Fact]
    public void Disposing_the_model_and_engine_frees_all_their_native_memory()
    {
        long before = NativeArena.LiveBytes;
        var tlb = new TlbModel(64, 1 << 20, TlbGeometry.SkylakeSp);
        var engine = new PerfSim.Core.Flush.FlushEngine(tlb, PerfSim.Core.Arch.ArchProfile.For(PerfSim.Core.Arch.ArchKind.X86_64),
            PerfSim.Core.Costs.CostProfile.Default(PerfSim.Core.Arch.ArchKind.X86_64));
        Assert.True(tlb.NativeBytes > 0 && engine.NativeBytes > 0);
        Assert.Equal(before + tlb.NativeBytes + engine.NativeBytes, NativeArena.LiveBytes);
        engine.Dispose();
        tlb.Dispose();
        tlb.Dispose();
        Assert.Equal(0, tlb.NativeBytes);
        Assert.Equal(before, NativeArena.LiveBytes);
    }

    [Fact]
    public void Arrays_allocated_on_first_use_are_freed_with_the_model()
    {
        long before = NativeArena.LiveBytes;
        var tlb = new TlbModel(64, 1 << 23, TlbGeometry.SkylakeSp);
        long empty = tlb.NativeBytes;
        for (int c = 0; c < 64; c += 7)
        {
            tlb.Fill(c, c * 100_003L, PageLevel.Level4K);
            tlb.Fill(c, (c * 100_003L) + 1, PageLevel.Level4K);
        }

        Assert.True(tlb.NativeBytes > empty);
        Assert.Equal(before + tlb.NativeBytes, NativeArena.LiveBytes);
        tlb.Dispose();
        Assert.Equal(0, tlb.NativeBytes);
        Assert.Equal(before, NativeArena.LiveBytes);
    }
}
