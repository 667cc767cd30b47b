using System.Runtime.InteropServices;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Tlb;

/// <summary>The result of a TLB lookup.</summary>
/// <param name="Level">The size of the entry that served the access, or <see cref="PageLevel.None"/> on a miss.</param>
/// <param name="Stale">True when the entry served an access to a page the caller says is not
/// present any more: a stale translation was used (a security exposure, not a crash).</param>
public readonly record struct TlbLookup(PageLevel Level, bool Stale)
{
    /// <summary>True when an entry served the access (no page walk).</summary>
    public bool Hit => Level != PageLevel.None;
}

/// <summary>Counters of one CPU's TLB (a snapshot).</summary>
public readonly record struct TlbCpuCounters(
    long Hits, long Misses, long StaleHits, long Fills, long Evictions,
    long Hits4K, long Hits2M, long Hits1G, long FullFlushes)
{
    public static TlbCpuCounters operator +(TlbCpuCounters a, TlbCpuCounters b) => new(
        a.Hits + b.Hits, a.Misses + b.Misses, a.StaleHits + b.StaleHits, a.Fills + b.Fills, a.Evictions + b.Evictions,
        a.Hits4K + b.Hits4K, a.Hits2M + b.Hits2M, a.Hits1G + b.Hits1G, a.FullFlushes + b.FullFlushes);

    public static TlbCpuCounters Add(TlbCpuCounters left, TlbCpuCounters right) => left + right;
}

/// <summary>What a ranged invalidation found: for each page of the range, how many CPUs still
/// held a valid translation covering it (4K, 2M or 1G entry; a CPU is counted once per page).</summary>
/// <param name="Pages">Pages in the range.</param>
/// <param name="PagesWithHolders">Pages that at least one CPU could still reach.</param>
/// <param name="HolderPairs">Sum over pages of the number of holding CPUs.</param>
/// <param name="MaxHolders">Largest number of holding CPUs for one page.</param>
public readonly record struct StaleTally(long Pages, long PagesWithHolders, long HolderPairs, int MaxHolders)
{
    public static StaleTally operator +(StaleTally a, StaleTally b) => new(
        a.Pages + b.Pages, a.PagesWithHolders + b.PagesWithHolders, a.HolderPairs + b.HolderPairs, Math.Max(a.MaxHolders, b.MaxHolders));

    public static StaleTally Add(StaleTally left, StaleTally right) => left + right;
}

/// <summary>One TLB entry (16 bytes). <see cref="Key"/> is <c>(vpn &lt;&lt; 2) | level</c>, 0 when
/// empty; the entry is valid only while <see cref="Epoch"/> equals its CPU's epoch.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TlbEntry
{
    public long Key;
    public uint Epoch;
    public uint Lru;
}

/// <summary>Per-CPU TLB state, two 128-byte lines per CPU so that host threads owning different
/// simulated CPUs never share a line: the first holds what every lookup and fill touches (epoch,
/// clock, the views of the CPU's arrays, the common counters, the pending fill), the second the
/// rarer counters.</summary>
[StructLayout(LayoutKind.Sequential, Size = 2 * NativeArena.CacheLine)]
internal struct TlbCpuState
{
    public uint Epoch;
    public uint Clock;
    public long SeenGlobalFlushes;

    /// <summary>The CPU's entries, valid-way masks and region table, allocated at its first own
    /// operation (<see cref="HasArrays"/> false until then: a CPU that never ran holds nothing, as the
    /// all-zero arrays it would otherwise have).</summary>
    public NativeArray<TlbEntry> Entries;
    public NativeArray<WayMask> WayMasks;
    public NativeArray<RegionSlot> Regions;

    public long Hits;
    public long Misses;
    public long Fills;
    public long Hits4K;

    /// <summary>Key of a 4K fill not installed yet (0 = none): way <see cref="PendingFillWay"/> of its
    /// set, LRU stamp <see cref="PendingFillClock"/>, this CPU's current epoch (see TlbModel's
    /// "Fused fill and INVLPG").</summary>
    public long PendingFillKey;
    public int PendingFillWay;
    public uint PendingFillClock;

    /// <summary>Regions whose bit waits for <see cref="TlbModel.SyncRegionMasks"/> (deferred masks).</summary>
    public int PendingRegions;

    /// <summary>The last region key queued, so a run of faults in one region queues it once.</summary>
    public uint LastPendingRegion;

    public long Hits2M;

    // ---- second line ----
    public long StaleHits;
    public long Evictions;
    public long Hits1G;
    public long FullFlushes;

    /// <summary>Pending fills the zap's own INVLPG cancelled (tests: the fused path is taken).</summary>
    public long FusedCancels;

    /// <summary>Whether the CPU's arrays were allocated.</summary>
    public readonly bool HasArrays => !Entries.IsDefault;
}

/// <summary>The valid ways of one TLB set: bit w is set iff way w holds a valid entry. Valid only
/// while <see cref="Epoch"/> equals its CPU's epoch (a full flush empties every mask at once).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WayMask
{
    public ulong Valid;
    public uint Epoch;
}

/// <summary>One slot of a CPU's region table: how many valid entries the CPU holds in a 2M region
/// (4K and 2M entries) or a 1G region (1G entries). 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RegionSlot
{
    /// <summary>0 = empty; 2M region r → r + 1; 1G region g → 0x8000_0000 | (g + 1).</summary>
    public uint Key;
    public ushort Count;

    /// <summary>Low 16 bits of the CPU epoch the slot was written in; other values mean empty.</summary>
    public ushort Epoch;
}
