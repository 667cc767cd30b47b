using System.Globalization;
using PerfSim.Core.Events;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Invariants;

/// <summary>What went wrong, in kernel terms (docs/kernel-paths.md, invariants).</summary>
public enum ViolationKind : byte
{
    /// <summary>A kernel access through the direct map to a non-present page: x86 #PF in kernel
    /// mode, arm64 translation fault. The simulated kernel oopses.</summary>
    Oops,

    /// <summary>A frame returned to the free pool while its direct-map entry is invalid: the next
    /// owner faults on its first kernel access.</summary>
    LatentCrash,

    /// <summary>A page inserted into a no-direct-map page cache before it was zeroed.</summary>
    UnzeroedInsert,

    /// <summary>A frame freed while a mermap slot's stale translation may still reach it (the
    /// region was not flushed before the free).</summary>
    MermapStaleFree,

    /// <summary>A zap path finished while the zapping CPU could still reach the page through its
    /// TLB: the flush after the zap is missing.</summary>
    StaleTranslation,
}

/// <summary>One recorded violation with its precise diagnostic.</summary>
public readonly record struct Violation(ViolationKind Kind, long Pfn, int Cpu, KernelPath Path, long TimeNs)
{
    public override string ToString() => Kind switch
    {
        ViolationKind.Oops => string.Create(CultureInfo.InvariantCulture, $"oops: kernel access to non-present direct-map page pfn 0x{Pfn:x} on CPU {Cpu} by {Path.Describe()} at {TimeNs} ns"),
        ViolationKind.LatentCrash => string.Create(CultureInfo.InvariantCulture, $"latent crash: pfn 0x{Pfn:x} freed by {Path.Describe()} on CPU {Cpu} at {TimeNs} ns while its direct-map entry is invalid"),
        ViolationKind.UnzeroedInsert => string.Create(CultureInfo.InvariantCulture, $"unzeroed insert: pfn 0x{Pfn:x} entered a no-direct-map page cache on CPU {Cpu} by {Path.Describe()} at {TimeNs} ns without being zeroed"),
        ViolationKind.MermapStaleFree => string.Create(CultureInfo.InvariantCulture, $"mermap stale free: pfn 0x{Pfn:x} freed by {Path.Describe()} on CPU {Cpu} at {TimeNs} ns while a mermap translation to it was not flushed"),
        _ => string.Create(CultureInfo.InvariantCulture, $"stale translation: pfn 0x{Pfn:x} zapped by {Path.Describe()} on CPU {Cpu} is still reachable through its TLB at {TimeNs} ns (no flush)"),
    };
}

/// <summary>
/// Checks every kernel access to a frame and every frame freed against the direct map.
/// Violations are counted and the first <see cref="MaxRecorded"/> are kept with their diagnostic;
/// none is ever dropped silently (the counts stay exact).
/// </summary>
/// <remarks>Thread-safe: counts are atomic and recording takes a lock, because violations are rare
/// and a clean run never reaches either.</remarks>
public sealed class InvariantChecker
{
    /// <summary>Violations kept with full diagnostics; beyond it only counts grow. Enough to show
    /// every distinct path in a broken design without unbounded memory.</summary>
    public const int MaxRecorded = 256;

    private readonly DirectMap _directMap;
    private readonly long[] _counts = new long[Enum.GetValues<ViolationKind>().Length];
    private readonly List<Violation> _recorded = [];

    public InvariantChecker(DirectMap directMap)
    {
        ArgumentNullException.ThrowIfNull(directMap);
        _directMap = directMap;
    }

    /// <summary>Receives a <see cref="SimEventKind.Violation"/> event per violation, or null.</summary>
    public ISimEventSink? Sink { get; set; }

    public long Count(ViolationKind kind) => Interlocked.Read(ref _counts[(int)kind]);

    public long Total => _counts.Sum();

    /// <summary>The first violations, in the order they happened.</summary>
    public IReadOnlyList<Violation> Recorded
    {
        get
        {
            lock (_recorded)
            {
                return [.. _recorded];
            }
        }
    }

    /// <summary>A kernel access through the direct map to <paramref name="pfn"/>: false (and an
    /// oops recorded) when the page's direct-map entry is not present. Stale TLB entries are the
    /// TLB model's business: this is the page-table walk.</summary>
    public bool CheckAccess(int cpu, long pfn, KernelPath path, long timeNs = 0)
    {
        if (_directMap.IsPresent(pfn))
        {
            return true;
        }

        Record(new Violation(ViolationKind.Oops, pfn, cpu, path, timeNs));
        return false;
    }

    /// <summary>A frame (or a block of 2^<paramref name="order"/> frames) handed back to the
    /// allocator: a latent crash for every frame whose direct-map entry is invalid, unless the
    /// block goes to ALLOC_UNMAPPED free lists, which keep freed pages unmapped by design.</summary>
    public bool CheckFree(int cpu, long pfn, int order, bool toUnmappedList, KernelPath path = KernelPath.PageFree, long timeNs = 0)
    {
        if (toUnmappedList)
        {
            return true;
        }

        bool ok = true;
        for (long p = pfn; p < pfn + (1L << order); p++)
        {
            if (!_directMap.IsPresent(p))
            {
                Record(new Violation(ViolationKind.LatentCrash, p, cpu, path, timeNs));
                ok = false;
            }
        }

        return ok;
    }

    /// <summary>Records a violation found elsewhere (e.g. an unzeroed insert).</summary>
    public void Record(Violation violation)
    {
        Interlocked.Increment(ref _counts[(int)violation.Kind]);
        Sink?.Emit(new SimEvent(violation.TimeNs, violation.Pfn, (long)violation.Kind, violation.Cpu, SimEventKind.Violation));
        lock (_recorded)
        {
            if (_recorded.Count < MaxRecorded)
            {
                _recorded.Add(violation);
            }
        }
    }
}
