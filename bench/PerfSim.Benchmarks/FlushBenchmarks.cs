using BenchmarkDotNet.Attributes;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Flush;
using PerfSim.Core.Tlb;

namespace PerfSim.Benchmarks;

/// <summary>
/// Wall-clock cost of simulating TLB flushes (not the simulated cost): one operation = one
/// simulated flush on a host of <see cref="Cpus"/> simulated CPUs, x86-64 IPI profile.
/// </summary>
/// <remarks>Every CPU's TLB is warmed in setup with a seeded background load (2,000 4K entries
/// per CPU over a 16 GiB direct map), so ranged flushes meet realistic region bitmasks.
/// <see cref="OnePageShootdown"/> is the engine's per-fault hot path: the faulting CPU touches the
/// page through the direct map (TLB fill), the page is zapped, and one one-page
/// <c>flush_tlb_kernel_range</c> with exposure accounting follows.</remarks>
[BenchmarkCategory(Categories.Flush)]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "BenchmarkDotNet needs a non-sealed class and releases the native state in [GlobalCleanup].")]
public class FlushBenchmarks
{
    private const long EndPfn = 16L << 18;

    private TlbModel _tlb = null!;
    private FlushEngine _engine = null!;
    private long _pfn;
    private int _cpu;
    private long _now;

    [Params(64, 256)]
    public int Cpus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ArchProfile arch = ArchProfile.For(ArchKind.X86_64);
        _tlb = new TlbModel(Cpus, EndPfn, arch.Geometry);
        _engine = new FlushEngine(_tlb, arch, CostProfile.Default(ArchKind.X86_64));
        var rng = new Random(12345);
        for (int c = 0; c < Cpus; c++)
        {
            for (int i = 0; i < 2000; i++)
            {
                _tlb.Fill(c, rng.NextInt64(EndPfn), PageLevel.Level4K);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _tlb.Dispose();
    }

    [Benchmark]
    public long OnePageShootdown()
    {
        Advance();
        _tlb.Fill(_cpu, _pfn, PageLevel.Level4K);
        return _engine.FlushKernelRange(_cpu, _pfn, 1, _now, _now - 300).InitiatorLatencyNs;
    }

    [Benchmark]
    public long OnePageFlushNoHolder()
    {
        Advance();
        return _engine.FlushKernelRange(_cpu, _pfn, 1, _now).InitiatorLatencyNs;
    }

    [Benchmark]
    public long FlushAll()
    {
        Advance();
        return _engine.FlushAll(_cpu, _now).InitiatorLatencyNs;
    }

    private void Advance()
    {
        // A stride co-prime with the region size walks every 2M region and page in turn.
        _pfn = (_pfn + 4099) % EndPfn;
        _cpu = _cpu + 1 == Cpus ? 0 : _cpu + 1;
        _now += 1000;
    }
}
