using PerfSim.Core.Allocator;
using PerfSim.Core.Concurrency;
using PerfSim.Core.Frames;
using PerfSim.Core.PageCache;
using PerfSim.Core.Tests.Allocator;
using PerfSim.Testing;

namespace PerfSim.Core.Tests.PageCache;

public sealed class ShardedPageCacheTests
{
    [Theory]
    [InlineData(1, 11)]
    [InlineData(64, 11)]
    [InlineData(8, 2026)]
    public void RandomOperations_MatchADictionaryAfterEveryStep(int shards, int seed)
    {
        var random = new Random(seed);
        using var host = AllocatorHost.Small();
        var cache = new ShardedPageCache(host.Arena, host.Frames, shards);
        var reference = new Dictionary<(ushort Mapping, long Index), Folio>();
        var sizes = new Dictionary<ushort, long>();
        var callbacks = new FreeingCallbacks(host.Allocator, host.Frames);

        for (int step = 0; step < 2500; step++)
        {
            string context = $"seed {seed} shards {shards} step {step}";
            int op = random.Next(100);
            if (sizes.Count == 0 || (op < 2 && sizes.Count < 4))
            {
                long size = 512 * random.Next(1, 5);
                Assert.True(cache.TryCreateMapping(AddressSpaceFlags.NoDirectMap, size, out ushort created));
                Assert.False(sizes.ContainsKey(created), $"{context}: id {created} handed out while alive");
                sizes.Add(created, size);
                continue;
            }

            ushort mapping = sizes.Keys.ElementAt(random.Next(sizes.Count));
            long mappingSize = sizes[mapping];
            if (op < 4)
            {
                int removed = cache.TeardownMapping(mapping, callbacks);
                Assert.Equal(reference.Where(e => e.Key.Mapping == mapping).Select(e => e.Value).Distinct().Count(), removed);
                foreach ((ushort, long) key in reference.Keys.Where(k => k.Mapping == mapping).ToList())
                {
                    reference.Remove(key);
                }

                sizes.Remove(mapping);
            }
            else if (op < 55)
            {
                int order = random.Next(10) switch { < 6 => 0, < 9 => 2, _ => 9 };
                long index = random.NextInt64(mappingSize >> order) << order;
                if (!host.Allocator.TryAllocatePages(0, order, AllocFlags.None, out long pfn))
                {
                    continue;
                }

                bool free = Enumerable.Range(0, 1 << order).All(i => !reference.ContainsKey((mapping, index + i)));
                AddResult result = cache.FilemapAddFolio(mapping, index, pfn, order);
                Assert.True((result == AddResult.Added) == free, $"{context}: add at {index} order {order} gave {result}");
                if (result == AddResult.Added)
                {
                    for (int i = 0; i < 1 << order; i++)
                    {
                        reference[(mapping, index + i)] = new Folio(pfn, order, index);
                    }
                }
                else
                {
                    Assert.Equal(FrameOwner.Allocated, host.Frames[pfn].Owner);
                    host.Allocator.FreePages(0, pfn, order);
                }
            }
            else if (op < 85)
            {
                long index = random.NextInt64(mappingSize);
                RemoveResult result = cache.FilemapRemoveFolio(mapping, index, null, out Folio folio);
                Assert.Equal(reference.TryGetValue((mapping, index), out Folio expected) ? RemoveResult.Removed : RemoveResult.NotFound, result);
                if (result == RemoveResult.Removed)
                {
                    Assert.Equal(expected, folio);
                    for (long i = 0; i < folio.Pages; i++)
                    {
                        reference.Remove((mapping, folio.Index + i));
                    }

                    host.Allocator.FreePages(0, folio.Pfn, folio.Order);
                }
            }
            else
            {
                long start = random.NextInt64(mappingSize);
                long end = Math.Min(mappingSize, start + random.Next(1, 1100));
                List<Folio> expected = reference.Where(e => e.Key.Mapping == mapping).Select(e => e.Value).Distinct()
                    .Where(f => f.Index >= start && f.Index + f.Pages <= end).OrderBy(f => f.Index).ToList();
                callbacks.Log.Clear();
                Assert.Equal(expected.Count, cache.TruncateRange(mapping, start, end, callbacks));
                Assert.Equal(expected.SelectMany(f => new[] { ("free", f), ("put", f) }), callbacks.Log);
                foreach (Folio f in expected)
                {
                    for (long i = 0; i < f.Pages; i++)
                    {
                        reference.Remove((mapping, f.Index + i));
                    }
                }
            }

            CompareWithReference(cache, host.Frames, sizes, reference, context);
        }
    }

    [Fact]
    public void ConcurrentInsertsOfOverlappingIndices_HaveExactlyOneWinnerEach()
    {
        const int Threads = 4;
        const long Size = 4096;
        using var host = AllocatorHost.Small(cpus: Threads);
        var cache = new ShardedPageCache(host.Arena, host.Frames, shardCount: 4);
        Assert.True(cache.TryCreateMapping(AddressSpaceFlags.None, Size, out ushort mapping));
        var wins = new List<(long Index, long Pfn)>[Threads];
        var seenAfterLoss = new List<(long Index, long Pfn)>[Threads];
        long[][] orders = new long[Threads][];
        for (int t = 0; t < Threads; t++)
        {
            wins[t] = [];
            seenAfterLoss[t] = [];
            var random = new Random(500 + t);
            orders[t] = [.. Enumerable.Range(0, (int)Size).Select(i => (long)i).OrderBy(_ => random.Next())];
        }

        HostThreads.Run(Threads, cpu =>
        {
            foreach (long index in orders[cpu])
            {
                if (!host.Allocator.TryAllocatePages(cpu, 0, AllocFlags.None, out long pfn))
                {
                    throw new InvalidOperationException("out of memory in the test");
                }

                if (cache.FilemapAddFolio(mapping, index, pfn, 0) == AddResult.Added)
                {
                    wins[cpu].Add((index, pfn));
                    continue;
                }

                // -EEXIST: drop our folio and retry the lookup, as the fault paths do.
                host.Allocator.FreePages(cpu, pfn, 0);
                if (!cache.TryLookup(mapping, index, out Folio winner))
                {
                    throw new InvalidOperationException($"index {index}: lost the insert but found nothing");
                }

                seenAfterLoss[cpu].Add((index, winner.Pfn));
            }
        });

        Dictionary<long, long> winners = wins.SelectMany(w => w).ToDictionary(w => w.Index, w => w.Pfn);
        Assert.Equal(Size, winners.Count); // ToDictionary throws on two winners for one index
        Assert.Equal(Size * (Threads - 1), seenAfterLoss.Sum(s => s.Count));
        Assert.All(seenAfterLoss.SelectMany(s => s), s => Assert.True(winners[s.Index] == s.Pfn, $"index {s.Index}: a loser saw pfn {s.Pfn}, the winner inserted {winners[s.Index]}"));
        for (long index = 0; index < Size; index++)
        {
            Assert.True(cache.TryLookup(mapping, index, out Folio folio) && folio.Pfn == winners[index], $"index {index}: final state");
            Assert.Equal((FrameOwner.PageCache, mapping, (uint)index), (host.Frames[folio.Pfn].Owner, host.Frames[folio.Pfn].MappingId, host.Frames[folio.Pfn].Index));
        }

        Assert.Equal(Size, host.Frames.CountByOwner()[(int)FrameOwner.PageCache]);
        Assert.True(host.Frames.CountByOwner()[(int)FrameOwner.Allocated] == 0, "every loser freed its folio");
    }

    [Fact]
    public void Removal_ClearsTheMappingBeforeFreeFolio_AndLeavesTheFrameAllocated()
    {
        using var host = AllocatorHost.Small();
        (ShardedPageCache cache, ushort mapping) = CacheWithMapping(host, AddressSpaceFlags.NoDirectMap, 1024);
        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn));
        Assert.Equal(AddResult.Added, cache.FilemapAddFolio(mapping, 77, pfn, 0));
        Assert.Equal((FrameOwner.PageCache, mapping, 77u), (host.Frames[pfn].Owner, host.Frames[pfn].MappingId, host.Frames[pfn].Index));

        var observed = new List<string>();
        var callback = new ObservingCallback(folio =>
        {
            Frame frame = host.Frames[folio.Pfn];
            observed.Add($"mapping={frame.MappingId} owner={frame.Owner} index={frame.Index} cached={cache.TryLookup(mapping, 77, out _)} locked={cache.TestHookHoldsAnyShardLock()}");
        });
        Assert.Equal(RemoveResult.Removed, cache.FilemapRemoveFolio(mapping, 77, callback, out Folio removed));

        Assert.Equal(["mapping=0 owner=Allocated index=77 cached=False locked=False"], observed);
        Assert.Equal(new Folio(pfn, 0, 77), removed);
        host.Allocator.FreePages(0, removed.Pfn, removed.Order);
        Assert.Equal(FrameOwner.Free, host.Frames[pfn].Owner);
        Assert.Equal(RemoveResult.NotFound, cache.FilemapRemoveFolio(mapping, 77, callback, out _));
    }

    [Fact]
    public void LargeFolio_CoversItsIndices_AndConflictsWithOverlaps()
    {
        using var host = AllocatorHost.Small();
        (ShardedPageCache cache, ushort mapping) = CacheWithMapping(host, AddressSpaceFlags.Unmovable, 2048);
        Assert.True(host.Allocator.TryAllocatePages(0, 9, AllocFlags.None, out long huge));
        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long small));

        Assert.Equal(AddResult.Added, cache.FilemapAddFolio(mapping, 512, huge, 9));
        Assert.True(cache.TryLookup(mapping, 700, out Folio folio));
        Assert.Equal(new Folio(huge, 9, 512), folio);
        Assert.Equal((uint)700, host.Frames[huge + 188].Index);
        Assert.Equal(AddResult.Exists, cache.FilemapAddFolio(mapping, 600, small, 0));
        Assert.Throws<ArgumentException>(() => cache.FilemapAddFolio(mapping, 3, small, 1));
        Assert.Throws<ArgumentException>(() => cache.FilemapAddFolio(mapping, 2048, small, 0));

        var callbacks = new FreeingCallbacks(host.Allocator, host.Frames);
        Assert.Equal(0, cache.TruncateRange(mapping, 600, 2048, callbacks)); // partly covered: stays
        Assert.Equal(1, cache.TruncateRange(mapping, 512, 1024, callbacks));
        Assert.False(cache.TryLookup(mapping, 512, out _));
        Assert.Equal(FrameOwner.Free, host.Frames[huge + 511].Owner);
    }

    /// <summary>A page cache over <paramref name="host"/>'s frames with one mapping of
    /// <paramref name="sizePages"/> pages.</summary>
    private static (ShardedPageCache Cache, ushort Mapping) CacheWithMapping(AllocatorHost host, AddressSpaceFlags flags, long sizePages)
    {
        var cache = new ShardedPageCache(host.Arena, host.Frames);
        Assert.True(cache.TryCreateMapping(flags, sizePages, out ushort mapping));
        return (cache, mapping);
    }

    [Fact]
    public void SlotEntry_HoldsPfnAndOrderIn32Bits_UpToTheLastPfn()
    {
        for (int order = 0; order <= ShardedPageCache.MaxFolioOrder; order++)
        {
            long pages = 1L << order;
            foreach (long pfn in new[] { 0, pages, 12345L << 9, (1L << 30) - pages, ShardedPageCache.MaxEndPfn - pages })
            {
                uint entry = ShardedPageCache.Encode(pfn, order);
                Assert.NotEqual(0u, entry);
                long index = (77L << 9) + pages - 1; // the last index of its folio
                Assert.Equal(new Folio(pfn, order, 77L << 9), ShardedPageCache.Decode(entry, index));
            }
        }
    }

    [Fact]
    public void MisalignedPfn_IsRefused()
    {
        using var host = AllocatorHost.Small();
        (ShardedPageCache cache, ushort mapping) = CacheWithMapping(host, AddressSpaceFlags.None, 64);
        Assert.True(host.Allocator.TryAllocatePages(0, 2, AllocFlags.None, out long pfn));

        // pfn + 1 and pfn + 2 are allocated frames, but not an order-1 folio's (its first pfn would be odd).
        ArgumentException e = Assert.Throws<ArgumentException>(() => cache.FilemapAddFolio(mapping, 0, pfn + 1, 1));
        Assert.Contains("aligned", e.Message, StringComparison.Ordinal);
        Assert.False(cache.TryLookup(mapping, 0, out _));
        Assert.Equal(AddResult.Added, cache.FilemapAddFolio(mapping, 0, pfn + 2, 1));
        Assert.True(cache.TryLookup(mapping, 1, out Folio folio));
        Assert.Equal(new Folio(pfn + 2, 1, 0), folio);
    }

    [Fact]
    public void Teardown_ReleasesTheIdAndTheChunks_AndIdsRunOutAt65535()
    {
        using var host = AllocatorHost.Small();
        var cache = new ShardedPageCache(host.Arena, host.Frames);
        var callbacks = new FreeingCallbacks(host.Allocator, host.Frames);
        Assert.True(cache.TryCreateMapping(AddressSpaceFlags.None, 4096, out ushort first));
        for (long index = 0; index < 4096; index += 300)
        {
            Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn));
            Assert.Equal(AddResult.Added, cache.FilemapAddFolio(first, index, pfn, 0));
        }

        Assert.Equal(8, cache.TestHookRentedChunks);
        Assert.Equal(14, cache.TeardownMapping(first, callbacks));
        Assert.Equal(0, cache.TestHookRentedChunks);
        Assert.Equal(0, host.Frames.CountByOwner()[(int)FrameOwner.PageCache]);
        Assert.Throws<InvalidOperationException>(() => cache.GetFlags(first));

        var ids = new HashSet<ushort>();
        while (cache.TryCreateMapping(AddressSpaceFlags.None, 0, out ushort id))
        {
            Assert.True(ids.Add(id));
        }

        Assert.Equal(ShardedPageCache.MaxMappings, ids.Count);
        Assert.DoesNotContain((ushort)0, ids);
        Assert.Equal(ShardedPageCache.MaxMappings, cache.LiveMappings);
        cache.TeardownMapping(1234, callbacks);
        Assert.True(cache.TryCreateMapping(AddressSpaceFlags.Inaccessible, 10, out ushort reused));
        Assert.Equal(1234, reused);
        Assert.Equal(AddressSpaceFlags.Inaccessible, cache.GetFlags(reused));
    }

    [Fact]
    public void AddLookupRemoveLoop_AllocatesNothingOnTheManagedHeap()
    {
        using var host = AllocatorHost.Small();
        host.Allocator.SetFreeCheck(null);
        var cache = new ShardedPageCache(host.Arena, host.Frames);
        Assert.True(cache.TryCreateMapping(AddressSpaceFlags.None, 512, out ushort mapping));
        RunLoop(); // warm up: JIT, chunk creation

        Allocations.AssertSteadyStateFree(() =>
        {
            for (int round = 0; round < 20; round++)
            {
                RunLoop();
            }
        });

        void RunLoop()
        {
            for (long index = 0; index < 512; index++)
            {
                if (!host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn)
                    || cache.FilemapAddFolio(mapping, index, pfn, 0) != AddResult.Added
                    || !cache.TryLookup(mapping, index, out _)
                    || cache.FilemapRemoveFolio(mapping, index, null, out Folio folio) != RemoveResult.Removed)
                {
                    throw new InvalidOperationException("loop step failed");
                }

                host.Allocator.FreePages(0, folio.Pfn, 0);
            }
        }
    }

    [Fact]
    public void Sharding_KeepsA2MiBRunInOneShard_AndSpreadsRuns()
    {
        int shards = Sharding.ShardCountFor(Sharding.PageCacheShardCap);
        Assert.True(shards is >= 1 and <= Sharding.PageCacheShardCap && (shards & (shards - 1)) == 0);
        Assert.All(Enumerable.Range(0, 512), i => Assert.Equal(Sharding.PageCacheShard(7, 1024, 64), Sharding.PageCacheShard(7, 1024 + i, 64)));

        int[] load = new int[64];
        for (ushort mapping = 1; mapping <= 16; mapping++)
        {
            for (long run = 0; run < 256; run++)
            {
                load[Sharding.PageCacheShard(mapping, run << 9, 64)]++;
            }
        }

        Assert.True(load.Min() > 0 && load.Max() < 3 * 64, $"4096 runs over 64 shards, min {load.Min()} max {load.Max()}");
    }

    private static void CompareWithReference(ShardedPageCache cache, FrameTable frames, Dictionary<ushort, long> sizes, Dictionary<(ushort Mapping, long Index), Folio> reference, string context)
    {
        foreach ((ushort mapping, long size) in sizes)
        {
            for (long index = 0; index < size; index++)
            {
                bool found = cache.TryLookup(mapping, index, out Folio folio);
                bool expected = reference.TryGetValue((mapping, index), out Folio want);
                if (found != expected || (found && folio != want))
                {
                    Assert.Fail($"{context}: mapping {mapping} index {index}: cache {(found ? folio.ToString() : "empty")}, reference {(expected ? want.ToString() : "empty")}");
                }

                if (found)
                {
                    Frame frame = frames[folio.Pfn + (index - folio.Index)];
                    Assert.True(frame.Owner == FrameOwner.PageCache && frame.MappingId == mapping && frame.Index == index, $"{context}: frame of mapping {mapping} index {index}");
                }
            }
        }

        Assert.Equal(reference.Count, frames.CountByOwner()[(int)FrameOwner.PageCache]);
    }

    /// <summary>Records free_folio/put order and frees to the allocator on put, as a caller does.</summary>
    private sealed class FreeingCallbacks(PageAllocator allocator, FrameTable frames) : ITruncateCallbacks
    {
        public List<(string Event, Folio Folio)> Log { get; } = [];

        public void FreeFolio(Folio folio)
        {
            Assert.Equal((FrameOwner.Allocated, (ushort)0), (frames[folio.Pfn].Owner, frames[folio.Pfn].MappingId));
            Log.Add(("free", folio));
        }

        public void PutFolio(Folio folio)
        {
            Log.Add(("put", folio));
            allocator.FreePages(0, folio.Pfn, folio.Order);
        }
    }

    private sealed class ObservingCallback(Action<Folio> onFree) : IFreeFolioCallback
    {
        public void FreeFolio(Folio folio) => onFree(folio);
    }
}
