using BenchmarkDotNet.Attributes;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Core;
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
    private SimKernel _kernel = null!;
    private Core.Mermap.Mermap _mermap = null!;
    private long _pfn;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: PageGeometry.GiB);
        _mermap = _kernel.CreateProcess().Mermap ?? throw new InvalidOperationException("no mermap");
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark]
    public long GetPut()
    {
        _pfn = (_pfn + 4099) & ((1L << 18) - 1);
        if (_mermap.TryGet(1, _pfn, 1, out Core.Mermap.MermapAllocation allocation, out _) != Core.Mermap.MermapGetResult.Ok)
        {
            throw new InvalidOperationException("mermap_get failed");
        }

        _mermap.Put(allocation);
        return allocation.FirstPage;
    }
}
