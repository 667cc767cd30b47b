using BenchmarkDotNet.Attributes;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Core;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Benchmarks;

/// <summary>
/// Direct-map zaps where the page's 2 MiB region is already split to 4K: the steady state of a
/// fragmented host. One operation = <c>set_direct_map_invalid_noflush</c> then
/// <c>set_direct_map_default_noflush</c> of one page (x86-64 CPA, 16 GiB), or the same pair as one
/// <c>set_direct_map_valid_noflush</c> range call over a 16-page folio.
/// </summary>
[BenchmarkCategory(Categories.DirectMap)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class DirectMapZapBenchmarks
{
    // 64 split 2 MiB regions (32 K pages): more PTE pages than L1 holds, fewer than the host has.
    private const long SplitRegions = 64;
    private const long FirstPfn = 1L << 18; // 1 GiB: above ZONE_DMA32, ordinary guest memory
    private const long Pages = SplitRegions * PageGeometry.PagesPer2M;

    private SimKernel _kernel = null!;
    private long _offset;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: 16 * PageGeometry.GiB);
        for (long r = 0; r < SplitRegions; r++)
        {
            long pfn = FirstPfn + (r * PageGeometry.PagesPer2M);
            if (_kernel.DirectMap.SetInvalidNoFlush(0, pfn).Error != 0 || _kernel.DirectMap.SetDefaultNoFlush(0, pfn).Error != 0)
            {
                throw new InvalidOperationException("setup split failed");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark]
    public int ZapRestorePage()
    {
        long pfn = FirstPfn + Next(1);
        DirectMap dm = _kernel.DirectMap;
        return dm.SetInvalidNoFlush(0, pfn).LockRounds + dm.SetDefaultNoFlush(0, pfn).LockRounds;
    }

    [Benchmark]
    public int ZapRestoreFolio16()
    {
        long pfn = FirstPfn + Next(16);
        DirectMap dm = _kernel.DirectMap;
        return dm.SetValidNoFlush(0, pfn, 16, valid: false).LockRounds + dm.SetValidNoFlush(0, pfn, 16, valid: true).LockRounds;
    }

    // Walks the split range in steps co-prime with the 512-page PTE table, aligned to the folio size.
    private long Next(long pages) => _offset = (_offset + (pages * 4099)) % Pages;
}

/// <summary>
/// Direct-map zaps that split: each operation zaps one page of a 2 MiB region still mapped by a
/// 2 MiB leaf, so x86 CPA allocates a page-table page, rewrites 512 PTEs and flushes globally
/// (<c>__split_large_page</c>). Splits never re-merge, so the state is rebuilt before every
/// iteration (<c>[IterationSetup]</c>, outside the measurement) and each iteration has a fixed
/// number of invocations, each on a fresh region. GBPAGES is off so every operation is exactly one
/// 2M→4K split (with GBPAGES one in 512 would also split a 1 GiB leaf).
/// </summary>
[BenchmarkCategory(Categories.DirectMap)]
[MemoryDiagnoser]
[InvocationCount(Invocations)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [IterationCleanup]/[GlobalCleanup].")]
public class DirectMapSplitBenchmarks
{
    /// <summary>Splits per iteration: 4 GiB worth of 2 MiB regions, within the 8 GiB host's RAM above 1 GiB.</summary>
    public const int Invocations = 2048;

    private const long FirstPfn = 1L << 18;

    private SimKernel? _kernel;
    private long _pfn;

    [IterationSetup]
    public void Setup()
    {
        _kernel?.Dispose();
        _kernel = BenchHost.Create(cpus: 2, ramBytes: 8 * PageGeometry.GiB, gbPages: false);
        _pfn = FirstPfn;
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel?.Dispose();

    [Benchmark]
    public int ZapWithSplit()
    {
        CpaResult result = _kernel!.DirectMap.SetInvalidNoFlush(0, _pfn);
        _pfn += PageGeometry.PagesPer2M;
        return result.Error == 0 ? result.LockRounds : throw new InvalidOperationException("zap failed");
    }
}
