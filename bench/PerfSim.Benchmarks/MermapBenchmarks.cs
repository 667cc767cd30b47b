using BenchmarkDotNet.Attributes;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Core;
using PerfSim.Core.Allocator;
using PerfSim.Core.Kernel;

namespace PerfSim.Benchmarks;

/// <summary>
/// The mermap (per-(mm, CPU) temporary mappings for pages out of the direct map): one operation =
/// <c>mermap_get</c> of one page then <c>mermap_put</c>, as a write() through the mermap does per
/// page. Every 512th get wraps the slice's bump pointer and takes a local flush, amortised in.
/// </summary>
[BenchmarkCategory(Categories.Mermap)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class MermapBenchmarks
{
    /// <summary>Pages the benchmark writes through the mermap (allocated, as a write()'s folios are:
    /// a free frame has no flags to mark stale).</summary>
    private const int Pages = 4096;

    private SimKernel _kernel = null!;
    private Core.Mermap.Mermap _mermap = null!;
    private readonly long[] _pfns = new long[Pages];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: PageGeometry.GiB);
        _mermap = _kernel.CreateProcess().Mermap ?? throw new InvalidOperationException("no mermap");
        for (int i = 0; i < Pages; i++)
        {
            if (!_kernel.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out _pfns[i]))
            {
                throw new InvalidOperationException("out of pages");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark]
    public long GetPut()
    {
        // A stride co-prime with the page count walks every page in turn, scattered.
        _next = (_next + 1031) & (Pages - 1);
        if (_mermap.TryGet(1, _pfns[_next], 1, out Core.Mermap.MermapAllocation allocation, out _) != Core.Mermap.MermapGetResult.Ok)
        {
            throw new InvalidOperationException("mermap_get failed");
        }

        _mermap.Put(allocation);
        return allocation.FirstPage;
    }
}
