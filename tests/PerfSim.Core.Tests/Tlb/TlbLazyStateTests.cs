using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

/// <summary>A CPU's TLB arrays are allocated at its first own operation and the 2M region masks in
/// chunks at a region's first holder: a lazy model must behave exactly as one that allocated
/// everything up front, and pay only for what is used.</summary>
public class TlbLazyStateTests
{
    private const long TiBFrames = PageGeometry.TiB / PageGeometry.PageSize;

    /// <summary>Per-CPU arrays of the Skylake geometry: 1,552 entries (16 B), 132 way masks (16 B),
    /// 4,096 region slots (8 B).</summary>
    private const long SkylakeCpuBytes = (1552 * 16) + (132 * 16) + (4096 * 8);

    /// <summary>One 2M mask chunk: 2,048 words.</summary>
    private const long MaskChunkBytes = 2048 * 8;

    [Theory]
    [InlineData(11, 3, false, false)]
    [InlineData(12, 70, false, false)] // two bitmask words
    [InlineData(13, 70, true, true)]
    [InlineData(14, 130, false, true)] // three words
    [InlineData(15, 200, true, false)]
    public void Lazy_and_eager_models_give_the_same_results_and_identical_state(int seed, int cpus, bool unified, bool deferMasks)
    {
        TlbGeometry geometry = unified ? TestGeometries.Unified : TestGeometries.Tiny;
        // 64 GiB: enough 2M regions for many mask chunks (1,024 regions per chunk at two words).
        const long endPfn = 16L << 20;
        using var lazy = new TlbModel(cpus, endPfn, geometry) { DeferRegionMasks = deferMasks };
        using var eager = new TlbModel(cpus, endPfn, geometry) { DeferRegionMasks = deferMasks };
        eager.AllocateEverythingForTest();
        var rng = new Random(seed);
        // A few CPUs run (the rest are only probed or flushed), around hot spots that lie in
        // different mask chunks and 1G regions.
        int[] running = [.. Enumerable.Range(0, 4).Select(_ => rng.Next(cpus))];
        long[] spots = [.. Enumerable.Range(0, 6).Select(_ => rng.NextInt64(endPfn))];
        for (int step = 0; step < 8_000; step++)
        {
            int cpu = running[rng.Next(running.Length)];
            int anyCpu = rng.Next(cpus);
            int spread = rng.Next(2) == 0 ? 40 : 1500;
            long pfn = Math.Clamp(spots[rng.Next(spots.Length)] + rng.Next(-spread, spread), 0, endPfn - 1);
            int op = rng.Next(100);
            string where = $"seed {seed} step {step} op {op} cpu {cpu} pfn {pfn}";
            if (op < 30)
            {
                bool present = rng.Next(4) != 0;
                Assert.True(eager.Lookup(cpu, pfn, present) == lazy.Lookup(cpu, pfn, present), where);
            }
            else if (op < 60)
            {
                var level = rng.Next(5) == 0 ? (PageLevel)(2 + rng.Next(2)) : PageLevel.Level4K;
                eager.Fill(cpu, pfn, level);
                lazy.Fill(cpu, pfn, level);
            }
            else if (op < 78)
            {
                long pages = Math.Min(rng.Next(8) == 0 ? rng.Next(1, 1200) : 1, endPfn - pfn);
                int only = rng.Next(3) == 0 ? (rng.Next(2) == 0 ? cpu : anyCpu) : -1;
                Assert.True(eager.InvalidateRange(pfn, pages, only) == lazy.InvalidateRange(pfn, pages, only), where);
            }
            else if (op < 90)
            {
                // Probes of any CPU, most never ran: they must not allocate, and answer as the eager model.
                Assert.True(eager.Holds(anyCpu, pfn) == lazy.Holds(anyCpu, pfn), where);
                Assert.True(eager.PeekLevel(anyCpu, pfn) == lazy.PeekLevel(anyCpu, pfn), where);
            }
            else if (op < 91)
            {
                eager.FlushAllCpus();
                lazy.FlushAllCpus();
            }
            else if (op < 96)
            {
                eager.FlushLocalAll(anyCpu);
                lazy.FlushLocalAll(anyCpu);
            }
            else
            {
                eager.SyncRegionMasks();
                lazy.SyncRegionMasks();
            }

            if (step % 50 == 0)
            {
                Assert.True(eager.TotalCounters() == lazy.TotalCounters(), where);
                if (!lazy.AnyPendingFillForTest() && !eager.AnyPendingFillForTest())
                {
                    Assert.True(eager.StateForTest().AsSpan().SequenceEqual(lazy.StateForTest()), $"{where}: state differs");
                }
            }
        }

        eager.SyncRegionMasks();
        lazy.SyncRegionMasks();
        eager.AssertInvariants();
        lazy.AssertInvariants();
        for (int c = 0; c < cpus; c++)
        {
            Assert.Equal(eager.CountersOf(c), lazy.CountersOf(c));
        }

        Assert.True(eager.StateForTest().AsSpan().SequenceEqual(lazy.StateForTest()), $"seed {seed}: final state differs");
        (int usedCpus, int chunks) = lazy.AllocatedForTest();
        Assert.True(usedCpus <= running.Distinct().Count(), $"{usedCpus} of {cpus} CPUs allocated");
        Assert.True(lazy.NativeBytes < eager.NativeBytes, $"lazy {lazy.NativeBytes} B, eager {eager.NativeBytes} B");
        Assert.True(chunks >= 1 && chunks <= spots.Length * 2, $"{chunks} mask chunks");
        TlbCpuCounters total = lazy.TotalCounters();
        Assert.True(total.Hits > 100 && total.Evictions > 100 && total.FullFlushes > 10, $"the model must be exercised: {total}");
    }

    [Fact]
    public void An_untouched_host_allocates_no_cpu_arrays_and_no_mask_chunks()
    {
        using var tlb = new TlbModel(256, TiBFrames, TlbGeometry.SkylakeSp) { DeferRegionMasks = true };
        long empty = tlb.NativeBytes;
        // The per-CPU state lines (256 B each), the whole 1G masks and the 2M chunk directory only.
        long expected = (256 * 256) + (1024 * 4 * 8) + ((TiBFrames >> 9) * 4 / 2048 * 8);
        Assert.Equal(expected, empty);

        // Probes, flushes and ranged invalidations of CPUs that hold nothing change nothing but
        // their epochs: each still counts the full flush (at its next access, as before).
        tlb.FlushAllCpus();
        for (int c = 0; c < 256; c++)
        {
            Assert.False(tlb.Holds(c, c * 4099L));
            Assert.Equal(PageLevel.None, tlb.PeekLevel(c, c * 4099L));
        }

        tlb.FlushLocalAll(17);
        Assert.Equal(new StaleTally(512, 0, 0, 0), tlb.InvalidateRange(1 << 20, 512));
        Assert.Equal(new StaleTally(1, 0, 0, 0), tlb.InvalidateRange(77, 1, onlyCpu: 9));
        tlb.SyncRegionMasks();
        tlb.AssertInvariants();
        Assert.Equal((0, 0), tlb.AllocatedForTest());
        Assert.Equal(empty, tlb.NativeBytes);
        Assert.Equal(257, tlb.TotalCounters().FullFlushes);
    }

    [Fact]
    public void Each_running_cpu_and_each_used_mask_chunk_is_paid_once_and_growth_keeps_entries()
    {
        using var tlb = new TlbModel(256, TiBFrames, TlbGeometry.SkylakeSp) { DeferRegionMasks = true };
        long empty = tlb.NativeBytes;
        const long Far = 700L << 18; // 700 GiB in: another mask chunk
        tlb.Fill(3, 1000, PageLevel.Level4K);
        tlb.Fill(3, 1001, PageLevel.Level4K);
        Assert.Equal(empty + SkylakeCpuBytes, tlb.NativeBytes); // deferred: no mask written yet
        tlb.SyncRegionMasks();
        Assert.Equal(empty + SkylakeCpuBytes + MaskChunkBytes, tlb.NativeBytes);

        tlb.Fill(200, 1002, PageLevel.Level4K); // same chunk, another CPU
        tlb.Fill(200, Far, PageLevel.Level2M);
        tlb.SyncRegionMasks();
        Assert.Equal((2, 2), tlb.AllocatedForTest());
        Assert.Equal(empty + (2 * SkylakeCpuBytes) + (2 * MaskChunkBytes), tlb.NativeBytes);

        // What was there before the growth is still there, and the masks find every holder.
        Assert.True(tlb.Holds(3, 1000) && tlb.Holds(3, 1001) && tlb.Holds(200, 1002) && tlb.Holds(200, Far + 5));
        Assert.Equal(new StaleTally(3, 3, 3, 1), tlb.InvalidateRange(1000, 3));
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(Far + 5, 1));
        Assert.False(tlb.Holds(200, Far));
        tlb.AssertInvariants();
        Assert.Equal(empty + (2 * SkylakeCpuBytes) + (2 * MaskChunkBytes), tlb.NativeBytes);
    }

    [Fact]
    public void Masks_written_at_once_grow_their_chunks_too()
    {
        using var tlb = new TlbModel(130, 1L << 24, TestGeometries.Tiny);
        tlb.Fill(129, 5, PageLevel.Level4K);
        tlb.Fill(0, 5, PageLevel.Level4K);
        Assert.Equal((2, 0), tlb.AllocatedForTest()); // both fills pending (fused): nothing installed
        Assert.Equal(new StaleTally(1, 1, 2, 2), tlb.InvalidateRange(5, 1));
        Assert.Equal((2, 1), tlb.AllocatedForTest());
        tlb.AssertInvariants();
    }
}
