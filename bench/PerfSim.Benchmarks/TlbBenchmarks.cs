using BenchmarkDotNet.Attributes;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Tlb;

namespace PerfSim.Benchmarks;

/// <summary>
/// Per-CPU TLB model on 64 simulated CPUs (x86-64 geometry, 16 GiB direct map), cycling through
/// the CPUs as faults on different vCPUs do. One operation = one lookup (hit or miss), or a
/// fill of a new 4K translation (evicting the set's LRU entry) followed by its lookup: the
/// engine's miss-then-walk-then-fill path.
/// </summary>
[BenchmarkCategory(Categories.Tlb)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class TlbBenchmarks
{
    private const int Cpus = 64;
    private const long EndPfn = 16L << 18;

    // 64 hot 4K pages per CPU: well inside any level's capacity, so every lookup of them hits.
    private const long HotPages = 64;

    private TlbModel _tlb = null!;
    private int _cpu;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        _tlb = new TlbModel(Cpus, EndPfn, ArchProfile.For(ArchKind.X86_64).Geometry);
        for (int cpu = 0; cpu < Cpus; cpu++)
        {
            for (long i = 0; i < HotPages; i++)
            {
                _tlb.Fill(cpu, HotPfn(i), PageLevel.Level4K);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _tlb.Dispose();

    [Benchmark]
    public bool LookupHit()
    {
        Advance();
        return _tlb.Lookup(_cpu, HotPfn(_step % HotPages)).Hit;
    }

    [Benchmark]
    public bool LookupMiss()
    {
        Advance();
        return _tlb.Lookup(_cpu, ColdPfn()).Hit;
    }

    [Benchmark]
    public bool FillThenLookup()
    {
        Advance();
        long pfn = ColdPfn();
        _tlb.Fill(_cpu, pfn, PageLevel.Level4K);
        return _tlb.Lookup(_cpu, pfn).Hit;
    }

    private void Advance()
    {
        _cpu = _cpu + 1 == Cpus ? 0 : _cpu + 1;
        _step++;
    }

    private static long HotPfn(long i) => 4096 + (i * 7);

    // Above the hot pages, striding co-prime with the set count over the rest of the map.
    private long ColdPfn() => (1L << 20) + ((_step * 4099) % (EndPfn - (1L << 20)));
}
