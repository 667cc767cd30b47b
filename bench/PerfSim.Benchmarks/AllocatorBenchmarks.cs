using BenchmarkDotNet.Attributes;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Core;
using PerfSim.Core.Allocator;
using PerfSim.Core.Kernel;

namespace PerfSim.Benchmarks;

/// <summary>
/// The page allocator on a 16 GiB host: one operation = <c>alloc_pages</c> then <c>__free_pages</c>
/// of one block. Order 0 is the per-CPU-list fast path (refills and drains amortised in);
/// order 9 (a 2 MiB folio) goes to the buddy lists, splitting and re-merging.
/// </summary>
[BenchmarkCategory(Categories.Allocator)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class AllocatorBenchmarks
{
    // Blocks held at once: enough that order-0 runs cross pcp refills and drains, not just one list entry.
    private const int Held = 256;

    private SimKernel _kernel = null!;
    private long[] _held = null!;
    private int _next;

    [Params(0, 9)]
    public int Order { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kernel = BenchHost.Create(cpus: 2, ramBytes: 16 * PageGeometry.GiB);
        _held = new long[Held];
        for (int i = 0; i < Held; i++)
        {
            _held[i] = Allocate();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    /// <summary>Frees the oldest held block and allocates a new one in its place: a FIFO of
    /// <see cref="Held"/> blocks, so frees and allocations interleave as in a running system.</summary>
    [Benchmark]
    public long AllocFree()
    {
        _kernel.Allocator.FreePages(1, _held[_next], Order);
        long pfn = Allocate();
        _held[_next] = pfn;
        _next = _next + 1 == Held ? 0 : _next + 1;
        return pfn;
    }

    private long Allocate() => _kernel.Allocator.TryAllocatePages(1, Order, AllocFlags.None, out long pfn)
        ? pfn
        : throw new InvalidOperationException("allocation failed");
}
