using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

/// <summary>Per-set valid-way masks (TlbModel's "Valid-way masks"): each mask is the set of valid
/// ways after every operation, and <see cref="TlbModel.AssertInvariants"/> notices when it is not.</summary>
public class TlbWayMaskTests
{
    /// <summary>64 ways in one set: the all-ways mask must not overflow.</summary>
    private static readonly TlbGeometry s_wide = new("wide", "test",
        [new TlbArrayGeometry(1, 64, true, true, false), new TlbArrayGeometry(2, 1, false, false, true)]);

    [Theory]
    [InlineData(11, false, false)]
    [InlineData(12, true, false)]
    [InlineData(13, false, true)]
    [InlineData(14, true, true)]
    public void Masks_equal_the_valid_ways_after_every_operation(int seed, bool wide, bool fuse)
    {
        const int cpus = 3;
        const long endPfn = 1L << 19;
        using var tlb = new TlbModel(cpus, endPfn, wide ? s_wide : TestGeometries.Tiny) { FuseZapFills = fuse };
        var rng = new Random(seed);
        for (int step = 0; step < 4000; step++)
        {
            int cpu = rng.Next(cpus);
            long pfn = rng.Next(2) == 0 ? rng.Next(200) : rng.Next((int)endPfn);
            switch (rng.Next(10))
            {
                case < 4:
                    tlb.Fill(cpu, pfn, (PageLevel)(1 + rng.Next(3)));
                    break;
                case < 7:
                    tlb.Lookup(cpu, pfn, rng.Next(3) != 0);
                    break;
                case < 9:
                    tlb.InvalidateRange(pfn, Math.Min(rng.Next(1, 100), endPfn - pfn), rng.Next(2) == 0 ? cpu : -1);
                    break;
                default:
                    if (rng.Next(2) == 0)
                    {
                        tlb.FlushLocalAll(cpu);
                    }
                    else
                    {
                        tlb.FlushAllCpus();
                    }

                    break;
            }

            tlb.AssertInvariants();
        }

        Assert.True(wide || tlb.TotalCounters().Evictions > 0, "sets must fill up");
    }

    [Fact]
    public void A_64_way_set_fills_every_way_before_it_evicts_its_least_recently_used()
    {
        using var tlb = new TlbModel(1, 1 << 20, s_wide);
        for (long p = 0; p < 64; p++)
        {
            tlb.Fill(0, p, PageLevel.Level4K);
        }

        Assert.True(tlb.Lookup(0, 0).Hit); // page 1 is now the least recently used
        Assert.Equal(0, tlb.TotalCounters().Evictions);
        tlb.Fill(0, 64, PageLevel.Level4K);
        Assert.Equal(1, tlb.TotalCounters().Evictions);
        Assert.False(tlb.Holds(0, 1));
        Assert.True(tlb.Holds(0, 0) && tlb.Holds(0, 64));
        tlb.AssertInvariants();
    }

    [Fact]
    public void AssertInvariants_reports_a_mask_bit_without_a_valid_entry()
    {
        using var tlb = new TlbModel(2, 1 << 20, TlbGeometry.SkylakeSp);
        tlb.Fill(1, 42, PageLevel.Level4K);
        tlb.AssertInvariants();
        tlb.CorruptWayMaskForTest(1, 42, 5);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(tlb.AssertInvariants);
        Assert.Contains("valid-way mask", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_flush_and_an_epoch_wrap_empty_every_mask()
    {
        using var tlb = new TlbModel(1, 1 << 20, TlbGeometry.SkylakeSp);
        tlb.Fill(0, 42, PageLevel.Level4K);
        tlb.FlushLocalAll(0);
        Assert.False(tlb.Holds(0, 42));
        tlb.AssertInvariants();

        tlb.Fill(0, 43, PageLevel.Level4K);
        tlb.SetEpochForTest(0, uint.MaxValue);
        tlb.Fill(0, 44, PageLevel.Level4K);
        tlb.FlushLocalAll(0); // the epoch wraps to 1: entries and masks are cleared
        Assert.False(tlb.Holds(0, 43));
        Assert.False(tlb.Holds(0, 44));
        tlb.AssertInvariants();
    }
}
