using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Core;
using PerfSim.Core.Allocator;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageCache;

namespace PerfSim.Benchmarks;

/// <summary>
/// Lock-free page-cache lookup (<c>filemap_get_entry</c>) of one index in a fully populated 256 MiB
/// mapping, against <see cref="ConcurrentDictionary{TKey, TValue}"/> holding the same
/// (mapping, index) → pfn entries: the BCL structure a C# developer would reach for first.
/// </summary>
[BenchmarkCategory(Categories.PageCache)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class PageCacheLookupBenchmarks
{
    // 65,536 pages = 256 MiB: 128 slot chunks (32 KiB each), larger than L2 like a real guest's cache.
    private const long Pages = 1L << 16;

    private SimKernel _kernel = null!;
    private ConcurrentDictionary<long, long> _dictionary = null!;
    private ushort _mapping;
    private long _index;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: PageGeometry.GiB);
        ShardedPageCache cache = _kernel.PageCache;
        if (!cache.TryCreateMapping(AddressSpaceFlags.None, Pages, out _mapping))
        {
            throw new InvalidOperationException("no mapping id");
        }

        _dictionary = new ConcurrentDictionary<long, long>(Environment.ProcessorCount, (int)Pages);
        for (long index = 0; index < Pages; index++)
        {
            if (!_kernel.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn)
                || cache.FilemapAddFolio(_mapping, index, pfn, 0) != AddResult.Added)
            {
                throw new InvalidOperationException("setup insert failed");
            }

            _dictionary[Key(_mapping, index)] = pfn;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true)]
    public long ConcurrentDictionaryLookup()
    {
        _dictionary.TryGetValue(Key(_mapping, Next()), out long pfn);
        return pfn;
    }

    [Benchmark]
    public long ShardedPageCacheLookup()
    {
        _kernel.PageCache.TryLookup(_mapping, Next(), out Folio folio);
        return folio.Pfn;
    }

    // A stride co-prime with the size visits every index, defeating the hardware prefetcher.
    private long Next() => _index = (_index + 4099) & (Pages - 1);

    internal static long Key(ushort mapping, long index) => ((long)mapping << 32) | index;
}

/// <summary>
/// Page-cache insert + lookup + remove under contention: <see cref="Threads"/> host threads split a
/// fixed batch of <see cref="Operations"/> folio cycles over one mapping, interleaved by index so
/// they meet on the same 2 MiB runs (the same shard lock). One operation = add, look up and remove
/// one order-0 folio. BenchmarkDotNet times one invocation (the whole batch on all threads), so
/// the figure is <b>aggregate throughput</b> (wall time per operation across all threads), not the
/// latency of one call. The baseline does the same work on a <see cref="ConcurrentDictionary{TKey, TValue}"/>.
/// </summary>
[BenchmarkCategory(Categories.PageCache)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class PageCacheContentionBenchmarks
{
    /// <summary>Operations per invocation: ~2–10 ms of work, long against Parallel.For's start-up.</summary>
    public const int Operations = 1 << 15;

    private SimKernel _kernel = null!;
    private ConcurrentDictionary<long, long> _dictionary = null!;
    private long[] _pfns = null!;
    private ushort _mapping;

    /// <summary>1 = uncontended reference; 2 = every core of the CI machine.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: PageGeometry.GiB);
        if (!_kernel.PageCache.TryCreateMapping(AddressSpaceFlags.None, Operations, out _mapping))
        {
            throw new InvalidOperationException("no mapping id");
        }

        _pfns = new long[Operations];
        for (int i = 0; i < _pfns.Length; i++)
        {
            if (!_kernel.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out _pfns[i]))
            {
                throw new InvalidOperationException("setup allocation failed");
            }
        }

        _dictionary = new ConcurrentDictionary<long, long>(Environment.ProcessorCount, Operations);
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public long ConcurrentDictionaryAddLookupRemove()
    {
        long sum = 0;
        Parallel.For(0, Threads, t =>
        {
            long local = 0;
            for (long index = t; index < Operations; index += Threads)
            {
                long key = PageCacheLookupBenchmarks.Key(_mapping, index);
                if (!_dictionary.TryAdd(key, _pfns[index]) || !_dictionary.TryGetValue(key, out long pfn) || !_dictionary.TryRemove(key, out _))
                {
                    throw new InvalidOperationException("dictionary step failed");
                }

                local += pfn;
            }

            Interlocked.Add(ref sum, local);
        });
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ShardedPageCacheAddLookupRemove()
    {
        long sum = 0;
        ShardedPageCache cache = _kernel.PageCache;
        Parallel.For(0, Threads, t =>
        {
            long local = 0;
            for (long index = t; index < Operations; index += Threads)
            {
                if (cache.FilemapAddFolio(_mapping, index, _pfns[index], 0) != AddResult.Added
                    || !cache.TryLookup(_mapping, index, out Folio folio)
                    || cache.FilemapRemoveFolio(_mapping, index, null, out _) != RemoveResult.Removed)
                {
                    throw new InvalidOperationException("page-cache step failed");
                }

                local += folio.Pfn;
            }

            Interlocked.Add(ref sum, local);
        });
        return sum;
    }
}
