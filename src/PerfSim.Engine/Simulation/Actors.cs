using PerfSim.Core;
using PerfSim.Core.Events;
using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Engine.Simulation;

/// <summary>Something that runs on one simulated CPU and issues kernel operations, one per step.</summary>
internal abstract class Actor(int cpu)
{
    public int Cpu { get; } = cpu;

    /// <summary>What its CPU is doing between steps, for the price of an IPI landing there
    /// (<see cref="HostCpus"/>): a host thread unless it is a vCPU.</summary>
    public virtual CpuRole Role => CpuRole.Host;

    /// <summary>Performs the next operation; false when the actor has nothing left to do.</summary>
    public abstract bool Step(SimContext context);

    /// <summary>Whether the next step touches only its CPU's state (and state updated
    /// commutatively), so the engine may run it at the same time as other CPUs' steps; when false
    /// it runs alone, in canonical order. Must depend on simulated state only.</summary>
    public virtual bool NextStepIsLocal(SimContext context) => false;
}

/// <summary>State shared by the actors of a run: the kernel, the latency histograms, the event feed.</summary>
internal sealed class SimContext(SimKernel kernel, ScenarioConfig config, ISimEventSink? recorder) : ILatencySink
{
    private const int FaultHistogram = 0;
    private const int PopulateHistogram = 1;

    public SimKernel Kernel { get; } = kernel;

    public ScenarioConfig Config { get; } = config;

    public EventFeed Feed { get; } = new(kernel, recorder);

    /// <summary>Fault latency as the guest sees it: waits and interruptions included.</summary>
    public LatencyHistogram Faults { get; } = new();

    /// <summary>A fault's own work (its CPU's clock, lock holds included, nothing it waited for).</summary>
    public LatencyHistogram FaultService { get; } = new();

    public LatencyHistogram PopulatePages { get; } = new();

    public LatencyHistogram PopulateService { get; } = new();

    public long PopulatedBytes { get; set; }

    /// <summary>A workload event, to wherever the kernel's own events go now.</summary>
    public void Emit(int cpu, SimEventKind kind, long pfn, long extra) => Kernel.EmitEvent(cpu, kind, pfn, extra);

    /// <summary>A fault's latency; recorded when the engine has woven the waits inside it.</summary>
    public void RecordFault(int cpu, long latencyNs) => Kernel.RecordLatency(cpu, FaultHistogram, latencyNs, this);

    void ILatencySink.Record(int cpu, int histogram, long serviceNs, long elapsedNs)
    {
        (histogram == FaultHistogram ? Faults : PopulatePages).Record(elapsedNs);
        (histogram == FaultHistogram ? FaultService : PopulateService).Record(serviceNs);
    }

    /// <summary>One page populated by <paramref name="path"/>, recorded and traced (a refused
    /// attempt too, with pfn -1: it is part of the workload); true when it was refused.</summary>
    public bool Populate(int cpu, KernelFile file, long index, PopulationPath path)
    {
        PathResult r = Kernel.Populate(cpu, file, index, path);
        if (r.Ok)
        {
            Kernel.RecordLatency(cpu, PopulateHistogram, r.LatencyNs, this);
            PopulatedBytes += PageGeometry.PageSize;
        }

        Emit(cpu, SimEventKind.PopulatePage, r.Ok ? r.Pfn : -1, index);
        return !r.Ok;
    }

    /// <summary>The guest runs in guest mode before it touches page <paramref name="index"/>: an
    /// exponential time of mean <c>think_ns</c>, a function of the seed, the CPU and the page only,
    /// so a replay of the recorded faults runs the same guest time.</summary>
    public void GuestRuns(int cpu, long index)
    {
        long mean = Config.ThinkNs;
        if (mean > 0)
        {
            double u = (((ulong)Seeds.Derive(Config.Seed, cpu, index) >> 11) + 0.5) * (1.0 / (1UL << 53));
            Kernel.Clock(cpu) += (long)(-Math.Log(u) * mean);
        }
    }

    /// <summary>The configured background kernel load: random direct-map reads on this CPU.</summary>
    public void Background(int cpu, Random rng)
    {
        for (int i = 0; i < Config.BackgroundAccesses; i++)
        {
            var ranges = Kernel.Frames.Layout.Ranges;
            var range = ranges[rng.Next(ranges.Count)];
            long pfn = range.StartPfn + rng.NextInt64(range.Pages);
            // The kernel touches its own memory, never a page it took out of the direct map.
            if (Kernel.DirectMap.IsPresent(pfn))
            {
                Kernel.AccessDirectMap(cpu, pfn, 1, KernelPath.BackgroundLoad);
            }
        }
    }
}

/// <summary>
/// A vCPU faulting its slice of guest memory in (<c>kvm_gmem_get_pfn</c> per first touch):
/// sequentially, with a random jump now and then; every page of the slice exactly once.
/// </summary>
/// <remarks>The next untouched page at or after a position is found with a union-find "next
/// free" array (path halving): near-constant time per step however full the slice is, where a
/// forward scan went quadratic once jumps landed in already-faulted stretches.</remarks>
internal sealed class GuestVcpu : Actor
{
    private readonly KernelFile _file;
    private readonly long _start;
    private readonly UntouchedPages _untouched;
    private readonly Random _rng;
    private readonly double _jump;
    private readonly bool _lookAhead;
    private int _cursor;
    private long _left;

    /// <summary>The page the next step faults (chosen one step ahead, so the engine can ask whether
    /// that step is CPU-local; the RNG draws keep their order).</summary>
    private int _page;

    /// <summary>With <c>lookAhead</c>, the page the step after it faults (−1: none), whose page-cache
    /// slot the host starts loading a fault early: after a jump it is a cache miss.</summary>
    private int _following = -1;

    /// <param name="lookAhead">Choose each page one step earlier still: only when nothing else draws
    /// from the vCPU's RNG (no background accesses), so the pages and their order stay the same.</param>
    public GuestVcpu(int cpu, KernelFile file, long start, long pages, long seed, double jump, bool lookAhead)
        : base(cpu)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, int.MaxValue - 1);
        _file = file;
        _start = start;
        _untouched = new UntouchedPages((int)pages);
        _left = pages;
        _rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        _jump = jump;
        _lookAhead = lookAhead;
        _page = pages > 0 ? ChooseNext() : -1;
        _following = lookAhead && pages > 1 ? ChooseNext() : -1;
    }

    public override CpuRole Role => CpuRole.Vcpu;

    public override bool NextStepIsLocal(SimContext context) =>
        _left > 0 && context.Config.BackgroundAccesses == 0 && context.Kernel.FaultIsCpuLocal(Cpu, _file, _start + _page);

    public override bool Step(SimContext context)
    {
        if (_left == 0)
        {
            return false;
        }

        _left--;
        long index = _start + _page;
        if (_following >= 0)
        {
            context.Kernel.PrefetchFault(_file, _start + _following);
        }

        context.GuestRuns(Cpu, index);
        context.Background(Cpu, _rng);
        PathResult r = context.Kernel.GmemGetPfn(Cpu, _file, index);
        context.RecordFault(Cpu, r.LatencyNs);
        context.Emit(Cpu, SimEventKind.Fault, r.Pfn, index);
        if (_left > 0 && _lookAhead)
        {
            _page = _following;
            _following = _left > 1 ? ChooseNext() : -1;
        }
        else if (_left > 0)
        {
            _page = ChooseNext();
        }

        return _left > 0;
    }

    /// <summary>The next untouched page: sequential, or a random jump with the configured
    /// probability; marked touched.</summary>
    private int ChooseNext()
    {
        int pages = _untouched.Count;
        if (_rng.NextDouble() < _jump)
        {
            _cursor = _rng.Next(pages);
        }

        int page = _untouched.NextAtOrAfter(_cursor);
        if (page == pages)
        {
            page = _untouched.NextAtOrAfter(0);
        }

        _untouched.Take(page);
        _cursor = page + 1 == pages ? 0 : page + 1;
        return page;
    }
}

/// <summary>The VMM filling [start, start + pages) of a guest_memfd by one population path.</summary>
internal sealed class VmmPopulator(int cpu, KernelFile file, long start, long pages, PopulationPath path) : Actor(cpu)
{
    private readonly long _end = start + pages;
    private long _next = start;

    public long Refused { get; private set; }

    public override bool Step(SimContext context)
    {
        if (_next >= _end)
        {
            return false;
        }

        long index = _next++;
        if (context.Populate(Cpu, file, index, path))
        {
            Refused++;
        }

        return _next < _end;
    }
}

/// <summary>A thread touching its share of a secretmem mapping, one page per step.</summary>
internal sealed class SecretmemToucher(int cpu, KernelFile file, long start, long pages) : Actor(cpu)
{
    private readonly long _end = start + pages;
    private long _next = start;

    public override bool NextStepIsLocal(SimContext context) =>
        _next < _end && context.Kernel.FaultIsCpuLocal(Cpu, file, _next);

    public override bool Step(SimContext context)
    {
        if (_next >= _end)
        {
            return false;
        }

        long index = _next++;
        PathResult r = context.Kernel.SecretmemFault(Cpu, file, index);
        context.RecordFault(Cpu, r.LatencyNs);
        context.Emit(Cpu, SimEventKind.Fault, r.Pfn, index);
        return _next < _end;
    }
}

/// <summary>
/// One thread of will-it-scale's <c>tlb_flush2</c> (tests/tlb_flush2.c): it maps 1 MiB of private
/// anonymous memory and, page by page, writes the page (a fault that allocates it), madvises it
/// away (<c>MADV_DONTNEED</c>: a one-page <c>flush_tlb_mm_range</c> to the mm's other CPUs) and
/// reads it back (the zero page); then unmaps the 1 MiB (its zero-page PTEs: a ranged flush past
/// the ceiling) and maps it again. One loop per step; every state it touches is its CPU's own, so
/// it runs in parallel rounds (the cross calls are woven in time order).
/// </summary>
internal sealed class TlbFlush2Thread(int cpu, KernelProcess mm, long loops) : Actor(cpu)
{
    /// <summary>Pages of one mapping: MEMORYSIZE (1 MiB) / 4 KiB (tests/tlb_flush2.c).</summary>
    public const int PagesPerMapping = 256;

    private long _done;

    public override bool NextStepIsLocal(SimContext context) => true;

    public override bool Step(SimContext context)
    {
        if (_done >= loops)
        {
            return false;
        }

        SimKernel k = context.Kernel;
        if (_done % PagesPerMapping == 0)
        {
            k.Mmap(Cpu);
        }

        context.RecordFault(Cpu, k.AnonWriteFault(Cpu, mm).LatencyNs);
        k.MadviseDontneed(Cpu, mm, 1);
        context.RecordFault(Cpu, k.AnonReadFault(Cpu, mm).LatencyNs);
        _done++;
        if (_done % PagesPerMapping == 0 || _done == loops)
        {
            k.Munmap(Cpu, mm, ((_done - 1) % PagesPerMapping) + 1);
        }

        return _done < loops;
    }
}
