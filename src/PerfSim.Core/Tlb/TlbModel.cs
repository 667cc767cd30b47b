using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Tlb;

/// <summary>
/// The data TLBs of every simulated CPU, for direct-map translations only. It does not know the
/// direct map: the caller looks up a pfn, and on a miss walks its own page tables and calls
/// <see cref="Fill"/> with the size of the leaf it found.
/// </summary>
/// <remarks>
/// <para><b>Entries.</b> Each CPU has the set-associative arrays of its <see cref="TlbGeometry"/>;
/// an entry caches one 4K page, one 2M region or one 1G region, keyed by the pfn shifted to that
/// size. LRU per set, invalid ways first. A hit through an entry whose page the caller reports as
/// not present is a <i>stale hit</i>: after <c>set_direct_map_invalid_noflush</c> and until the
/// flush reaches that CPU, the CPU can still read the page (arch/x86/mm/pat/set_memory.c: set_direct_map_invalid_noflush).</para>
/// <para><b>Full flushes are O(1).</b> Each CPU has an epoch; an entry is valid only while its
/// epoch equals the CPU's. A local full flush bumps one CPU's epoch; a global one bumps a global
/// counter that every CPU folds into its own epoch at its next access. No entry is walked.</para>
/// <para><b>Ranged flushes are O(pages + holders).</b> Per 2M region (for 4K and 2M entries) and
/// per 1G region (for 1G entries) a CPU bitmask records which CPUs may hold an entry there. Each
/// CPU also keeps a small region table counting its valid entries per region, so a bit is cleared
/// as soon as that CPU's last entry in the region goes (eviction or flush); bits made stale by a
/// full flush are cleared the first time a flush probes them. A ranged flush therefore probes only
/// CPUs that really hold something in the regions it touches, removes the matching entries (an
/// INVLPG of a 4K address also drops a 2M/1G entry covering it, as on hardware), and counts, per
/// page, how many CPUs could still reach it: the stale-holder count. There is no per-frame array,
/// and nothing is sized for the whole host up front but the 1G masks and 256 bytes of state per
/// CPU: a CPU's entries, way masks and region table (~59 KiB) are allocated at its first own
/// operation, and the 2M masks (<c>cpus/64</c> words per region, 0.0625 B/frame at 256 CPUs if
/// all were there) in chunks of 2,048 words when a region of the chunk first gets a holder. A CPU
/// or chunk never used reads as the all-zero state it would have had, so results are the same as
/// with everything allocated.</para>
/// <para><b>Valid-way masks.</b> Each set keeps a bitmask of its valid ways, tagged with the CPU
/// epoch it was written in (so a full flush empties every mask without touching one). Lookups,
/// fills and invalidations compare only valid ways, and a fill finds its free way with one bit
/// scan; <see cref="AssertInvariants"/> checks each mask against the entries.</para>
/// <para><b>Fused fill and INVLPG.</b> A per-folio fault zeroes the folio through the direct map
/// (a miss and a 4K fill) and its zap's flush then removes that very entry with the CPU's own
/// INVLPG. A 4K fill that evicts nothing is therefore left pending in the CPU's state; any other
/// operation of that CPU (and any initiator operation, through <see cref="SyncRegionMasks"/>)
/// installs it first, exactly as the fill would have, since nothing of the CPU changed meanwhile.
/// A one-page <see cref="InvalidateRange"/> of that CPU alone that covers it, with no full flush
/// between and no 2M/1G entry over the page, cancels it instead: counters (the miss, the fill),
/// LRU clock, way contents, set masks, region table and region masks end as the install-then-remove
/// pair leaves them, and the CPU counts as the page's one holder. Anything else takes the plain
/// path.</para>
/// <para><b>Concurrency contract.</b> <see cref="Lookup"/>, <see cref="Fill"/> and
/// <see cref="FlushLocalAll"/> of CPU <c>c</c> touch only CPU <c>c</c>'s entries, counters and
/// region table, plus the shared region bitmasks through <see cref="Interlocked"/> operations: calls
/// for different CPUs may run on different host threads. <see cref="InvalidateRange"/> and
/// <see cref="FlushAllCpus"/> (the <i>initiator</i> operations) write other CPUs' state and must not
/// run concurrently with anything else on this model (run them single-threaded or at a quantum
/// barrier, in a canonical order).</para>
/// <para><b>Deferred masks.</b> The region bitmasks are shared words that every CPU with entries in
/// a region writes; host threads running neighbouring CPUs would fight over those cache lines on
/// every fill and eviction. With <see cref="DeferRegionMasks"/> on, an owner operation never writes
/// a mask: it queues the regions whose count went from or to zero on its own CPU, and
/// <see cref="SyncRegionMasks"/> (run by the first initiator operation, single-threaded) sets each
/// queued bit to whether the region is live then. A ranged invalidation of one's own CPU
/// (<c>onlyCpu</c>) probes its own region table instead of the mask. The masks stay a superset of
/// the holders whenever an initiator reads them, so results do not change.</para>
/// </remarks>
public sealed class TlbModel : IDisposable
{
    /// <summary>Most simulated CPUs supported (bitmask words and region keys are sized for it).</summary>
    public const int MaxCpus = 1024;

    private const int PagesPer2MShift = 9;
    private const int PagesPer1GShift = 18;
    private const uint GigaTag = 0x8000_0000;

    /// <summary>2M region mask words per chunk: 2,048 words = 16 KiB, the masks of 512 regions
    /// (1 GiB) at 256 CPUs.</summary>
    private const int Mask2MChunkShift = 11;

    private readonly NativeArena _arena = new();
    private readonly NativeArray<TlbCpuState> _cpus;
    private readonly ChunkedNativeArray<long> _mask2M;
    private readonly NativeArray<long> _mask1G;
    private readonly LevelArray[] _levels = new LevelArray[4];
    private readonly int _entriesPerCpu;
    private readonly int _setsPerCpu;
    private readonly int _slotsPerCpu;
    private readonly int _slotShift;
    private readonly int _words;
    private readonly long _endPfn;

    // Scratch for InvalidateRange, made on first use: per-page holder counts of the 2M region being
    // processed, and the CPUs holding a valid 1G entry of the current 1G region. One per CPU plus
    // one (the last) for initiator operations: a CPU's own ranged invalidation (onlyCpu) may run on
    // its host thread while others run theirs, and each touches only its own slot.
    private readonly InvalidateScratch?[] _scratch;

    private readonly uint[]?[] _pendingRegions;
    private long _globalFlushes;
    private bool _masksPending;
    private bool _fillsPending;
    private bool _disposed;

    /// <summary>Creates the TLBs of <paramref name="cpus"/> CPUs for a direct map of
    /// <paramref name="endPfn"/> frames (pfns 0 .. endPfn − 1).</summary>
    public TlbModel(int cpus, long endPfn, TlbGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpus, MaxCpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(endPfn, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(endPfn, (long)int.MaxValue << PagesPer2MShift);
        geometry.Validate();

        Geometry = geometry;
        CpuCount = cpus;
        _endPfn = endPfn;
        int offset = 0, setBase = 0;
        foreach (TlbArrayGeometry a in geometry.Arrays)
        {
            for (int level = 1; level <= 3; level++)
            {
                if (a.Holds((PageLevel)level))
                {
                    _levels[level] = new LevelArray(offset, setBase, a.Sets - 1, a.Ways);
                }
            }

            offset += a.Entries;
            setBase += a.Sets;
        }

        _entriesPerCpu = offset;
        _setsPerCpu = setBase;
        // Region table: at most one slot per valid entry, so twice the entry count keeps linear
        // probing short (load factor <= 0.5).
        _slotsPerCpu = (int)BitOperations.RoundUpToPowerOf2((uint)(2 * _entriesPerCpu));
        _slotShift = 32 - BitOperations.Log2((uint)_slotsPerCpu);
        _words = (cpus + 63) / 64;

        // Each CPU's entries, way masks and region table are allocated at its first own operation
        // (AllocateCpu): a host of 256 CPUs running 16 vCPUs pays for the CPUs it uses.
        _cpus = _arena.Allocate<TlbCpuState>(cpus);
        // 2M region masks in chunks allocated when a region of theirs first gets a holder: a 1 GiB
        // guest on a 1 TiB host sets bits in a few of them. The 1G masks (8 B per CPU word per GiB)
        // stay whole.
        _mask2M = new ChunkedNativeArray<long>(_arena, ((endPfn + PageGeometry.PagesPer2M - 1) >> PagesPer2MShift) * _words, Mask2MChunkShift);
        _mask1G = _arena.Allocate<long>(((endPfn + PageGeometry.PagesPer1G - 1) >> PagesPer1GShift) * _words);
        _pendingRegions = new uint[cpus][];
        _scratch = new InvalidateScratch?[cpus + 1];
        for (int c = 0; c < cpus; c++)
        {
            _cpus[c].Epoch = 1;
        }
    }

    /// <summary>Owner operations queue their region-mask changes for <see cref="SyncRegionMasks"/>
    /// instead of writing the shared masks (see Deferred masks). Set while no operation runs, by the
    /// kernel's <see cref="Kernel.QuantumSession"/> (and by tests of the model).</summary>
    public bool DeferRegionMasks
    {
        get;
        internal set
        {
            SyncRegionMasks();
            field = value;
        }
    }

    /// <summary>Brings the region masks up to date with the regions owner operations queued.
    /// Initiator operation; the ranged invalidations of every CPU call it first.</summary>
    public void SyncRegionMasks()
    {
        ApplyPendingFills();
        if (!Volatile.Read(ref _masksPending))
        {
            return;
        }

        _masksPending = false;
        for (int c = 0; c < CpuCount; c++)
        {
            ref TlbCpuState s = ref _cpus[c];
            if (s.PendingRegions == 0)
            {
                continue;
            }

            uint epoch = SyncEpoch(c, ref s);
            uint[] queued = _pendingRegions[c]!;
            long bit = 1L << c;
            for (int i = 0; i < s.PendingRegions; i++)
            {
                uint key = queued[i];
                if (RegionLive(c, epoch, key))
                {
                    MaskWord(key, c) |= bit;
                }
                else if (HasMaskWord(key, c))
                {
                    MaskWord(key, c) &= ~bit;
                }
            }

            s.PendingRegions = 0;
            s.LastPendingRegion = 0;
        }
    }

    /// <summary>Whether a 4K fill that evicts nothing waits for its CPU's next operation, so that the
    /// zap's own INVLPG can cancel it (see Fused fill and INVLPG). On by default; tests turn it off
    /// to compare against the plain path.</summary>
    internal bool FuseZapFills { get; set; } = true;

    /// <summary>Number of simulated CPUs.</summary>
    public int CpuCount { get; }

    /// <summary>One past the highest pfn the model covers.</summary>
    public long EndPfn => _endPfn;

    public TlbGeometry Geometry { get; }

    /// <summary>Native bytes owned by this model (0 after <see cref="Dispose"/>).</summary>
    public long NativeBytes => _arena.AllocatedBytes;

    /// <summary>Looks <paramref name="pfn"/> up in CPU <paramref name="cpu"/>'s TLB. On a hit the
    /// entry becomes most recently used. Pass <paramref name="pagePresent"/> = false when the
    /// direct-map PTE of the page is not present: a hit is then counted as a stale access.</summary>
    public TlbLookup Lookup(int cpu, long pfn, bool pagePresent = true)
    {
        CheckPfn(pfn);
        ref TlbCpuState s = ref Owner(cpu);
        uint epoch = SyncEpoch(cpu, ref s);
        uint clock = Tick(cpu, ref s);
        for (int level = 1; level <= 3; level++)
        {
            long vpn = pfn >> (PagesPer2MShift * (level - 1));
            int w = Find(in s, level, vpn, epoch);
            if (w >= 0)
            {
                Set(in s, level, vpn)[w].Lru = clock;
                s.Hits++;
                if (level == 1)
                {
                    s.Hits4K++;
                }
                else if (level == 2)
                {
                    s.Hits2M++;
                }
                else
                {
                    s.Hits1G++;
                }

                if (!pagePresent)
                {
                    s.StaleHits++;
                }

                return new TlbLookup((PageLevel)level, !pagePresent);
            }
        }

        s.Misses++;
        return default;
    }

    /// <summary>Whether CPU <paramref name="cpu"/> holds a valid translation covering
    /// <paramref name="pfn"/>, without touching LRU order or counters: the invariant checker's probe.</summary>
    public bool Holds(int cpu, long pfn)
    {
        CheckPfn(pfn);
        ref TlbCpuState s = ref OwnerIfUsed(cpu);
        uint epoch = SyncEpoch(cpu, ref s);
        if (!s.HasArrays)
        {
            return false;
        }

        for (int level = 1; level <= 3; level++)
        {
            if (Find(in s, level, pfn >> (PagesPer2MShift * (level - 1)), epoch) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Installs the translation the caller's page walk found for <paramref name="pfn"/>
    /// (a leaf of <paramref name="leafLevel"/>), evicting the set's LRU entry if needed.</summary>
    public void Fill(int cpu, long pfn, PageLevel leafLevel)
    {
        CheckPfn(pfn);
        if (leafLevel is not (PageLevel.Level4K or PageLevel.Level2M or PageLevel.Level1G))
        {
            throw new ArgumentOutOfRangeException(nameof(leafLevel), leafLevel, "a TLB entry maps a 4K, 2M or 1G leaf");
        }

        int level = (int)leafLevel;
        ref TlbCpuState s = ref Owner(cpu);
        uint epoch = SyncEpoch(cpu, ref s);
        uint clock = Tick(cpu, ref s);
        long vpn = pfn >> (PagesPer2MShift * (level - 1));
        long key = (vpn << 2) | (uint)level;
        LevelArray la = _levels[level];
        long set = vpn & la.SetMask;
        ref WayMask mask = ref MaskOf(in s, la, set);
        ulong valid = ValidWays(mask, epoch);
        Span<TlbEntry> ways = Ways(in s, la, set);
        int lru = -1;
        uint oldest = uint.MaxValue;
        for (ulong bits = valid; bits != 0; bits &= bits - 1)
        {
            int w = BitOperations.TrailingZeroCount(bits);
            ref TlbEntry e = ref ways[w];
            if (e.Key == key)
            {
                e.Lru = clock;
                return;
            }

            if (e.Lru < oldest)
            {
                oldest = e.Lru;
                lru = w;
            }
        }

        s.Fills++;
        ulong free = ~valid & AllWays(la.Ways);
        if (free != 0)
        {
            int way = BitOperations.TrailingZeroCount(free);
            if (level == 1 && FuseZapFills)
            {
                // No eviction: the install can wait for this CPU's next operation, and the zap's
                // own INVLPG may cancel it (see Fused fill and INVLPG).
                s.PendingFillKey = key;
                s.PendingFillWay = way;
                s.PendingFillClock = clock;
                if (!Volatile.Read(ref _fillsPending))
                {
                    Volatile.Write(ref _fillsPending, true);
                }

                return;
            }

            Install(cpu, epoch, la, set, way, key, clock);
            return;
        }

        ref TlbEntry v = ref ways[lru];
        RegionRemove(cpu, epoch, RegionKey((int)(v.Key & 3), v.Key >> 2));
        s.Evictions++;
        Install(cpu, epoch, la, set, lru, key, clock);
    }

    /// <summary>Local full flush of one CPU (x86 <c>__flush_tlb_all</c> on this CPU, e.g. the
    /// mermap slot wrap-around; arm64 <c>local_flush_tlb_all</c>). O(1).</summary>
    public void FlushLocalAll(int cpu)
    {
        ref TlbCpuState s = ref OwnerIfUsed(cpu);
        SyncEpoch(cpu, ref s);
        BumpEpoch(cpu, ref s);
        s.FullFlushes++;
    }

    /// <summary>Full flush of every CPU (<c>flush_tlb_all</c>). O(1): each CPU applies it at its
    /// next access. Initiator operation (see the concurrency contract).</summary>
    public void FlushAllCpus() => Volatile.Write(ref _globalFlushes, _globalFlushes + 1);

    /// <summary>Removes every translation covering pfns [<paramref name="startPfn"/>,
    /// <paramref name="startPfn"/> + <paramref name="pages"/>) from every CPU (or only from
    /// <paramref name="onlyCpu"/> when it is ≥ 0), as INVLPG/TLBI of each page would, and returns how
    /// many CPUs could still reach each page just before. Initiator operation.</summary>
    public StaleTally InvalidateRange(long startPfn, long pages, int onlyCpu = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        if (pages == 0)
        {
            return default;
        }

        CheckPfn(startPfn);
        CheckPfn(startPfn + pages - 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(onlyCpu, CpuCount);
        if (onlyCpu < 0)
        {
            SyncRegionMasks();
            if (NobodyHolds(startPfn, pages))
            {
                return new StaleTally(pages, 0, 0, 0);
            }
        }
        else if (pages == 1 && CancelPendingFill(onlyCpu, startPfn))
        {
            AssertRangeInvalidated(startPfn, pages, onlyCpu);
            return new StaleTally(1, 1, 1, 1);
        }
        else if (!OwnerIfUsed(onlyCpu).HasArrays)
        {
            // A CPU that never ran holds nothing: only its epoch catches up, as a probe would.
            SyncEpoch(onlyCpu, ref _cpus[onlyCpu]);
            return new StaleTally(pages, 0, 0, 0);
        }

        InvalidateScratch scratch = _scratch[onlyCpu < 0 ? CpuCount : onlyCpu] ??= new InvalidateScratch(_words);
        int[] pageHolders = scratch.PageHolders;
        long[] held1G = scratch.Held1G;
        long end = startPfn + pages;
        long pagesWithHolders = 0, pairs = 0;
        int maxHolders = 0;
        for (long g = startPfn >> PagesPer1GShift; g <= (end - 1) >> PagesPer1GShift; g++)
        {
            long gStart = Math.Max(startPfn, g << PagesPer1GShift);
            long gEnd = Math.Min(end, (g + 1) << PagesPer1GShift);
            bool any1G = Collect1GHolders(g, onlyCpu, held1G);
            for (long r = gStart >> PagesPer2MShift; r <= (gEnd - 1) >> PagesPer2MShift; r++)
            {
                long lo = Math.Max(gStart, r << PagesPer2MShift);
                long hi = Math.Min(gEnd, (r + 1) << PagesPer2MShift);
                if (InvalidateIn2MRegion(r, lo, hi, onlyCpu, any1G, pageHolders, held1G))
                {
                    int n = (int)(hi - lo);
                    for (int i = 0; i < n; i++)
                    {
                        int h = pageHolders[i];
                        if (h > 0)
                        {
                            pagesWithHolders++;
                            pairs += h;
                            maxHolders = Math.Max(maxHolders, h);
                        }
                    }
                }
            }

            if (any1G)
            {
                Remove1GEntries(g, held1G);
            }
        }

        AssertRangeInvalidated(startPfn, pages, onlyCpu);
        return new StaleTally(pages, pagesWithHolders, pairs, maxHolders);
    }

    /// <summary>Counters of CPU <paramref name="cpu"/>.</summary>
    public TlbCpuCounters CountersOf(int cpu)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        return new TlbCpuCounters(s.Hits, s.Misses, s.StaleHits, s.Fills, s.Evictions, s.Hits4K, s.Hits2M, s.Hits1G, s.FullFlushes);
    }

    /// <summary>Sum of every CPU's counters (merge at the end of a run).</summary>
    public TlbCpuCounters TotalCounters()
    {
        TlbCpuCounters total = default;
        for (int c = 0; c < CpuCount; c++)
        {
            total += CountersOf(c);
        }

        return total;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _arena.Dispose();
        }
    }

    /// <summary>Test hook: the size of the valid entry that would serve <paramref name="pfn"/> on
    /// <paramref name="cpu"/>, without touching LRU state or counters.</summary>
    internal PageLevel PeekLevel(int cpu, long pfn)
    {
        ref TlbCpuState s = ref OwnerIfUsed(cpu);
        uint epoch = EffectiveEpoch(ref s);
        if (!s.HasArrays)
        {
            return PageLevel.None;
        }

        for (int level = 1; level <= 3; level++)
        {
            long vpn = pfn >> (PagesPer2MShift * (level - 1));
            if (Find(in s, level, vpn, epoch) >= 0)
            {
                return (PageLevel)level;
            }
        }

        return PageLevel.None;
    }

    /// <summary>DEBUG, at the end of an invalidation (the TLB's initiator region, or a CPU's own):
    /// no CPU it covered still translates a page of the range (up to 64 pages are checked, so the
    /// Debug run stays fast). A pure read: it must not move epochs or counters.</summary>
    [Conditional("DEBUG")]
    private void AssertRangeInvalidated(long startPfn, long pages, int onlyCpu)
    {
        int first = onlyCpu < 0 ? 0 : onlyCpu;
        int last = onlyCpu < 0 ? CpuCount - 1 : onlyCpu;
        for (long p = startPfn; p < startPfn + Math.Min(pages, 64); p++)
        {
            for (int cpu = first; cpu <= last; cpu++)
            {
                if (!_cpus[cpu].HasArrays)
                {
                    continue;
                }

                uint epoch = EffectiveEpoch(ref _cpus[cpu]);
                for (int level = 1; level <= 3; level++)
                {
                    long vpn = p >> (PagesPer2MShift * (level - 1));
                    long key = (vpn << 2) | (uint)level;
                    foreach (ref TlbEntry e in Set(in _cpus[cpu], level, vpn))
                    {
                        Debug.Assert(e.Key != key || e.Epoch != epoch, $"cpu {cpu} still translates pfn {p} (level {level}) after its invalidation");
                    }
                }
            }
        }
    }

    /// <summary>Test hook: recomputes region counts and bitmask coverage from the entries (O(all
    /// entries)) and throws if the incremental bookkeeping disagrees.</summary>
    internal void AssertInvariants()
    {
        SyncRegionMasks();
        var counts = new Dictionary<uint, int>();
        for (int c = 0; c < CpuCount; c++)
        {
            counts.Clear();
            ref TlbCpuState s = ref _cpus[c];
            uint epoch = EffectiveEpoch(ref s);
            bool synced = s.SeenGlobalFlushes == Volatile.Read(ref _globalFlushes);
            if (s.PendingFillKey != 0)
            {
                throw new InvalidOperationException($"cpu {c}: a pending fill survived SyncRegionMasks");
            }

            if (!s.HasArrays)
            {
                if (s.PendingRegions != 0)
                {
                    throw new InvalidOperationException($"cpu {c}: regions queued by a CPU that holds nothing");
                }

                continue;
            }

            AssertWayMasks(c, epoch);
            Span<TlbEntry> all = s.Entries.Slice(0, _entriesPerCpu);
            foreach (ref TlbEntry e in all)
            {
                if (e.Key != 0 && e.Epoch == epoch)
                {
                    int level = (int)(e.Key & 3);
                    uint key = RegionKey(level, e.Key >> 2);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                    if ((ReadMaskWord(key, c) & (1L << c)) == 0)
                    {
                        throw new InvalidOperationException($"cpu {c}: entry {e.Key:x} has no bit in its region mask");
                    }
                }
            }

            if (!synced)
            {
                continue;
            }

            int live = 0;
            Span<RegionSlot> slots = s.Regions.Slice(0, _slotsPerCpu);
            foreach (ref RegionSlot slot in slots)
            {
                if (slot.Key != 0 && slot.Epoch == (ushort)epoch)
                {
                    live++;
                    if (counts.GetValueOrDefault(slot.Key) != slot.Count)
                    {
                        throw new InvalidOperationException($"cpu {c}: region {slot.Key:x} counts {slot.Count}, entries {counts.GetValueOrDefault(slot.Key)}");
                    }
                }
            }

            if (live != counts.Count)
            {
                throw new InvalidOperationException($"cpu {c}: {live} region slots for {counts.Count} regions");
            }
        }
    }

    /// <summary>Test hook: forces CPU <paramref name="cpu"/>'s epoch close to a wrap.</summary>
    internal void SetEpochForTest(int cpu, uint epoch)
    {
        ref TlbCpuState s = ref Owner(cpu);
        SyncEpoch(cpu, ref s);
        ClearCpu(cpu);
        ClearRegionTable(cpu);
        s.Epoch = epoch;
    }

    /// <summary>Test hook: pending fills of <paramref name="cpu"/> that an INVLPG cancelled.</summary>
    internal long FusedCancelsOf(int cpu) => _cpus[cpu].FusedCancels;

    /// <summary>Test hook: whether some CPU has a fill pending.</summary>
    internal bool AnyPendingFillForTest()
    {
        for (int c = 0; c < CpuCount; c++)
        {
            if (_cpus[c].PendingFillKey != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Test hook: every byte of model state (entries, way masks, region tables, region
    /// masks, per-CPU state and queued regions), without the pending-fill bookkeeping, for
    /// byte-exact comparisons of two models. Call it while no fill is pending.</summary>
    internal byte[] StateForTest()
    {
        var bytes = new MemoryStream();
        // A CPU whose arrays were never allocated writes the zeros an eager model would hold.
        for (int c = 0; c < CpuCount; c++)
        {
            TlbCpuState s = _cpus[c];
            bytes.Write(s.HasArrays ? MemoryMarshal.AsBytes(s.Entries.Slice(0, _entriesPerCpu)) : new byte[_entriesPerCpu * Unsafe.SizeOf<TlbEntry>()]);
        }

        for (int c = 0; c < CpuCount; c++)
        {
            TlbCpuState s = _cpus[c];
            bytes.Write(s.HasArrays ? MemoryMarshal.AsBytes(s.WayMasks.Slice(0, _setsPerCpu)) : new byte[_setsPerCpu * Unsafe.SizeOf<WayMask>()]);
        }

        for (int c = 0; c < CpuCount; c++)
        {
            TlbCpuState s = _cpus[c];
            bytes.Write(s.HasArrays ? MemoryMarshal.AsBytes(s.Regions.Slice(0, _slotsPerCpu)) : new byte[_slotsPerCpu * Unsafe.SizeOf<RegionSlot>()]);
        }

        long[] mask2M = new long[checked((int)_mask2M.Length)];
        _mask2M.CopyTo(0, mask2M);
        bytes.Write(MemoryMarshal.AsBytes(mask2M.AsSpan()));
        bytes.Write(MemoryMarshal.AsBytes(_mask1G.Slice(0, checked((int)_mask1G.Length))));
        for (int c = 0; c < CpuCount; c++)
        {
            TlbCpuState s = _cpus[c];
            s.PendingFillWay = 0;
            s.PendingFillClock = 0;
            s.FusedCancels = 0;
            s.Entries = default;
            s.WayMasks = default;
            s.Regions = default;
            bytes.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<TlbCpuState>(in s)));
            bytes.Write(MemoryMarshal.AsBytes((_pendingRegions[c] ?? []).AsSpan(0, s.PendingRegions)));
        }

        bytes.Write(BitConverter.GetBytes(_globalFlushes));
        return bytes.ToArray();
    }

    /// <summary>Test hook: allocates every CPU's arrays and every 2M mask chunk, as the model did
    /// before they were allocated on first use (the eager model a lazy one must equal).</summary>
    internal void AllocateEverythingForTest()
    {
        for (int c = 0; c < CpuCount; c++)
        {
            if (!_cpus[c].HasArrays)
            {
                AllocateCpu(ref _cpus[c]);
            }
        }

        for (long i = 0; i < _mask2M.Length; i += _mask2M.ChunkLength)
        {
            _mask2M.GetOrAdd(i);
        }
    }

    /// <summary>Test hook: CPUs whose arrays were allocated, and 2M mask chunks allocated.</summary>
    internal (int Cpus, int MaskChunks) AllocatedForTest()
    {
        int cpus = 0;
        for (int c = 0; c < CpuCount; c++)
        {
            cpus += _cpus[c].HasArrays ? 1 : 0;
        }

        return (cpus, _mask2M.AllocatedChunks);
    }

    /// <summary>Test hook: forces CPU <paramref name="cpu"/>'s LRU clock close to a wrap.</summary>
    internal void SetClockForTest(int cpu, uint clock) => Owner(cpu).Clock = clock;

    // ---- per-CPU helpers (owner CPU, or the initiator under the contract) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint SyncEpoch(int cpu, ref TlbCpuState s)
    {
        long global = Volatile.Read(ref _globalFlushes);
        if (s.SeenGlobalFlushes != global)
        {
            ApplyGlobalFlush(cpu, ref s, global);
        }

        return s.Epoch;
    }

    private uint EffectiveEpoch(ref TlbCpuState s) =>
        s.SeenGlobalFlushes == Volatile.Read(ref _globalFlushes) ? s.Epoch : s.Epoch + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ApplyGlobalFlush(int cpu, ref TlbCpuState s, long global)
    {
        s.SeenGlobalFlushes = global;
        BumpEpoch(cpu, ref s);
        s.FullFlushes++;
    }

    private void BumpEpoch(int cpu, ref TlbCpuState s)
    {
        s.Epoch++;
        if (s.Epoch == 0)
        {
            // 2^32 full flushes of one CPU: clear its entries so no entry of epoch 0 can alias.
            ClearCpu(cpu);
            s.Epoch = 1;
        }

        if ((ushort)s.Epoch == 0 || s.Epoch == 1)
        {
            // Region slots carry 16 epoch bits: wipe the table when they wrap so no old slot aliases.
            ClearRegionTable(cpu);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Tick(int cpu, ref TlbCpuState s)
    {
        uint clock = ++s.Clock;
        if (clock == 0)
        {
            clock = ResetLru(cpu, ref s);
        }

        return clock;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private uint ResetLru(int cpu, ref TlbCpuState s)
    {
        // Once per 2^32 accesses of a CPU: recency order is forgotten (documented approximation).
        foreach (ref TlbEntry e in s.Entries.Slice(0, _entriesPerCpu))
        {
            e.Lru = 0;
        }

        s.Clock = 1;
        return 1;
    }

    /// <summary>Empties CPU <paramref name="cpu"/>'s entries and way masks (nothing to do for a CPU
    /// whose arrays were never allocated: they would be all zero).</summary>
    private void ClearCpu(int cpu)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.HasArrays)
        {
            s.Entries.Fill(0, _entriesPerCpu, default);
            s.WayMasks.Fill(0, _setsPerCpu, default);
        }
    }

    private void ClearRegionTable(int cpu)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.HasArrays)
        {
            s.Regions.Fill(0, _slotsPerCpu, default);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<TlbEntry> Set(in TlbCpuState s, int level, long vpn)
    {
        LevelArray la = _levels[level];
        return s.Entries.Slice(la.Offset + ((vpn & la.SetMask) * la.Ways), la.Ways);
    }

    /// <summary>The way of the valid entry (level, vpn) of the CPU whose state is <paramref name="s"/>, or −1: only the
    /// set's valid ways are compared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(in TlbCpuState s, int level, long vpn, uint epoch)
    {
        LevelArray la = _levels[level];
        long set = vpn & la.SetMask;
        ulong valid = ValidWays(MaskOf(in s, la, set), epoch);
        if (valid == 0)
        {
            return -1;
        }

        Span<TlbEntry> ways = Ways(in s, la, set);
        long key = (vpn << 2) | (uint)level;
        for (; valid != 0; valid &= valid - 1)
        {
            int w = BitOperations.TrailingZeroCount(valid);
            if (ways[w].Key == key)
            {
                return w;
            }
        }

        return -1;
    }

    /// <summary>Drops CPU <paramref name="cpu"/>'s valid entry (level, vpn) if present.</summary>
    private bool RemoveIfValid(int cpu, int level, long vpn, uint epoch)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        int w = Find(in s, level, vpn, epoch);
        if (w < 0)
        {
            return false;
        }

        LevelArray la = _levels[level];
        long set = vpn & la.SetMask;
        Ways(in s, la, set)[w].Key = 0;
        MaskOf(in s, la, set).Valid &= ~(1UL << w);
        RegionRemove(cpu, epoch, RegionKey(level, vpn));
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Span<TlbEntry> Ways(in TlbCpuState s, LevelArray la, long set) =>
        s.Entries.Slice(la.Offset + (set * la.Ways), la.Ways);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref WayMask MaskOf(in TlbCpuState s, LevelArray la, long set) => ref s.WayMasks[la.SetBase + set];

    /// <summary>The valid ways of a set: its mask if written in the CPU's current epoch, else none
    /// (a full flush invalidates every mask without touching it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ValidWays(in WayMask mask, uint epoch) => mask.Epoch == epoch ? mask.Valid : 0;

    private static ulong AllWays(int ways) => ways == 64 ? ulong.MaxValue : (1UL << ways) - 1;

    /// <summary>Makes <paramref name="mask"/> current for <paramref name="epoch"/> (empty if it was not).</summary>
    private static void Renew(ref WayMask mask, uint epoch)
    {
        if (mask.Epoch != epoch)
        {
            mask = new WayMask { Epoch = epoch };
        }
    }

    /// <summary>Writes entry <paramref name="key"/> into way <paramref name="way"/> (free or the
    /// victim, already removed from the region table) and counts it in its region.</summary>
    private void Install(int cpu, uint epoch, LevelArray la, long set, int way, long key, uint clock)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        ref TlbEntry v = ref Ways(in s, la, set)[way];
        v.Key = key;
        v.Epoch = epoch;
        v.Lru = clock;
        ref WayMask mask = ref MaskOf(in s, la, set);
        Renew(ref mask, epoch);
        mask.Valid |= 1UL << way;
        RegionAdd(cpu, epoch, RegionKey((int)(key & 3), key >> 2));
    }

    /// <summary>CPU <paramref name="cpu"/>'s state for an operation of its own: first installs a
    /// fill it left pending, exactly as <see cref="Fill"/> would have then (nothing of this CPU
    /// changed since).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref TlbCpuState Owner(int cpu)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.PendingFillKey != 0)
        {
            ApplyPendingFill(cpu, ref s);
        }
        else if (!s.HasArrays)
        {
            AllocateCpu(ref s);
        }

        return ref s;
    }

    /// <summary>As <see cref="Owner"/>, without allocating the arrays of a CPU that never ran (for
    /// probes that change nothing: such a CPU holds no entry).</summary>
    private ref TlbCpuState OwnerIfUsed(int cpu)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.PendingFillKey != 0)
        {
            ApplyPendingFill(cpu, ref s);
        }

        return ref s;
    }

    /// <summary>A CPU's first own operation: its entries, way masks and region table, all zero (the
    /// state it would have had from the start). The CPU's own host thread writes only its own state;
    /// the arena's allocation is thread-safe.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AllocateCpu(ref TlbCpuState s)
    {
        s.Entries = _arena.Allocate<TlbEntry>(_entriesPerCpu);
        s.WayMasks = _arena.Allocate<WayMask>(_setsPerCpu);
        s.Regions = _arena.Allocate<RegionSlot>(_slotsPerCpu);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ApplyPendingFill(int cpu, ref TlbCpuState s)
    {
        long key = s.PendingFillKey;
        s.PendingFillKey = 0;
        LevelArray la = _levels[1];
        Install(cpu, s.Epoch, la, (key >> 2) & la.SetMask, s.PendingFillWay, key, s.PendingFillClock);
    }

    /// <summary>Installs every CPU's pending fill (initiator: before reading other CPUs' state).</summary>
    private void ApplyPendingFills()
    {
        if (!Volatile.Read(ref _fillsPending))
        {
            return;
        }

        _fillsPending = false;
        for (int c = 0; c < CpuCount; c++)
        {
            OwnerIfUsed(c);
        }
    }

    /// <summary>
    /// The zap's own INVLPG of the one page whose 4K fill CPU <paramref name="cpu"/> left pending:
    /// when no full flush came between and no 2M/1G entry of the CPU covers the page, the general
    /// path would install the entry, find it the only holder and remove it. Leaves exactly the state
    /// that pair leaves (the way's stale contents, the set mask's epoch, the region slot the entry
    /// would have taken and its mask bit) and returns true; false (nothing done) otherwise.
    /// </summary>
    private bool CancelPendingFill(int cpu, long pfn)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.PendingFillKey != ((pfn << 2) | 1) || s.SeenGlobalFlushes != Volatile.Read(ref _globalFlushes))
        {
            return false;
        }

        uint epoch = s.Epoch;
        if (Find(in s, 2, pfn >> PagesPer2MShift, epoch) >= 0 || Find(in s, 3, pfn >> PagesPer1GShift, epoch) >= 0)
        {
            return false;
        }

        s.PendingFillKey = 0;
        s.FusedCancels++;
        LevelArray la = _levels[1];
        long set = pfn & la.SetMask;
        Ways(in s, la, set)[s.PendingFillWay] = new TlbEntry { Key = 0, Epoch = epoch, Lru = s.PendingFillClock };
        Renew(ref MaskOf(in s, la, set), epoch);
        RegionAddRemove(cpu, epoch, RegionKey(1, pfn));
        return true;
    }

    private static uint RegionKey(int level, long vpn) => level switch
    {
        1 => (uint)(vpn >> PagesPer2MShift) + 1,
        2 => (uint)vpn + 1,
        _ => GigaTag | (uint)(vpn + 1),
    };

    /// <summary>The word of <paramref name="cpu"/>'s bit in the mask of region <paramref name="key"/>
    /// (a 2M region's chunk is allocated if it has none yet).</summary>
    private ref long MaskWord(uint key, int cpu) => ref (key & GigaTag) != 0
        ? ref _mask1G[MaskIndex(key & ~GigaTag, cpu)]
        : ref _mask2M.GetOrAdd(MaskIndex(key, cpu));

    /// <summary>The value of <see cref="MaskWord"/>, allocating nothing (0 for a chunk never written).</summary>
    private long ReadMaskWord(uint key, int cpu) => (key & GigaTag) != 0
        ? _mask1G[MaskIndex(key & ~GigaTag, cpu)]
        : _mask2M.Read(MaskIndex(key, cpu));

    /// <summary>False when the word of <see cref="MaskWord"/> is in a chunk never written (all its
    /// bits clear: clearing one needs nothing).</summary>
    private bool HasMaskWord(uint key, int cpu) => (key & GigaTag) != 0 || _mask2M.HasChunk(MaskIndex(key, cpu));

    /// <summary>Where <paramref name="cpu"/>'s word of region <paramref name="region"/> (its key
    /// without the 1G tag: region number + 1) sits in a mask array.</summary>
    private long MaskIndex(uint region, int cpu) => (((long)region - 1) * _words) + (cpu >> 6);

    /// <summary>Clears <paramref name="cpu"/>'s bit in the mask of region <paramref name="key"/>
    /// (owner operation with the masks not deferred: other CPUs may change the word meanwhile).</summary>
    private void ClearMaskBit(uint key, int cpu)
    {
        if (HasMaskWord(key, cpu))
        {
            Interlocked.And(ref MaskWord(key, cpu), ~(1L << cpu));
        }
    }

    private void RegionAdd(int cpu, uint epoch, uint key)
    {
        Span<RegionSlot> slots = _cpus[cpu].Regions.Slice(0, _slotsPerCpu);
        int mask = _slotsPerCpu - 1;
        ushort ep = (ushort)epoch;
        for (int i = Hash(key); ; i = (i + 1) & mask)
        {
            ref RegionSlot slot = ref slots[i];
            if (slot.Key == 0 || slot.Epoch != ep)
            {
                slot = new RegionSlot { Key = key, Count = 1, Epoch = ep };
                long bit = 1L << cpu;
                if ((ReadMaskWord(key, cpu) & bit) == 0)
                {
                    if (DeferRegionMasks)
                    {
                        QueueRegion(cpu, key);
                    }
                    else
                    {
                        Interlocked.Or(ref MaskWord(key, cpu), bit);
                    }
                }

                return;
            }

            if (slot.Key == key)
            {
                slot.Count++;
                return;
            }
        }
    }

    private void RegionRemove(int cpu, uint epoch, uint key)
    {
        Span<RegionSlot> slots = _cpus[cpu].Regions.Slice(0, _slotsPerCpu);
        int mask = _slotsPerCpu - 1;
        ushort ep = (ushort)epoch;
        int i = Hash(key);
        while (slots[i].Key != key || slots[i].Epoch != ep)
        {
            if (slots[i].Key == 0 || slots[i].Epoch != ep)
            {
                throw new InvalidOperationException($"TLB region table of cpu {cpu} lost region {key:x}");
            }

            i = (i + 1) & mask;
        }

        if (--slots[i].Count > 0)
        {
            return;
        }

        // Backward-shift deletion keeps every live key reachable from its home slot.
        int hole = i;
        for (int j = (i + 1) & mask; slots[j].Key != 0 && slots[j].Epoch == ep; j = (j + 1) & mask)
        {
            int home = Hash(slots[j].Key);
            bool movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (movable)
            {
                slots[hole] = slots[j];
                hole = j;
            }
        }

        slots[hole] = default;
        if (DeferRegionMasks)
        {
            QueueRegion(cpu, key);
        }
        else
        {
            ClearMaskBit(key, cpu);
        }
    }

    /// <summary>The net effect of <see cref="RegionAdd"/> then <see cref="RegionRemove"/> of one
    /// entry: nothing for a live region; for a new one, the slot it would take is cleared (nothing
    /// would shift back into it: every later slot of the run was placed with it empty) and the
    /// CPU's mask bit ends as the remove leaves it.</summary>
    private void RegionAddRemove(int cpu, uint epoch, uint key)
    {
        Span<RegionSlot> slots = _cpus[cpu].Regions.Slice(0, _slotsPerCpu);
        int mask = _slotsPerCpu - 1;
        ushort ep = (ushort)epoch;
        int i = Hash(key);
        for (; slots[i].Key != 0 && slots[i].Epoch == ep; i = (i + 1) & mask)
        {
            if (slots[i].Key == key)
            {
                return;
            }
        }

        slots[i] = default;
        if (DeferRegionMasks)
        {
            QueueRegion(cpu, key);
        }
        else
        {
            ClearMaskBit(key, cpu);
        }
    }

    /// <summary>Queues a region whose mask bit of <paramref name="cpu"/> may be wrong now (owner).</summary>
    private void QueueRegion(int cpu, uint key)
    {
        ref TlbCpuState s = ref _cpus[cpu];
        if (s.LastPendingRegion == key)
        {
            return;
        }

        uint[] queued = _pendingRegions[cpu] ??= new uint[16];
        if (s.PendingRegions == queued.Length)
        {
            Array.Resize(ref _pendingRegions[cpu], queued.Length * 2);
            queued = _pendingRegions[cpu]!;
        }

        if (s.PendingRegions == 0 && !Volatile.Read(ref _masksPending))
        {
            Volatile.Write(ref _masksPending, true);
        }

        queued[s.PendingRegions++] = key;
        s.LastPendingRegion = key;
    }

    private bool RegionLive(int cpu, uint epoch, uint key)
    {
        Span<RegionSlot> slots = _cpus[cpu].Regions.Slice(0, _slotsPerCpu);
        int mask = _slotsPerCpu - 1;
        ushort ep = (ushort)epoch;
        for (int i = Hash(key); slots[i].Key != 0 && slots[i].Epoch == ep; i = (i + 1) & mask)
        {
            if (slots[i].Key == key)
            {
                return true;
            }
        }

        return false;
    }

    private int Hash(uint key) => (int)((key * 0x9E3779B1u) >> _slotShift);

    // ---- ranged invalidation (initiator) ----

    private bool Collect1GHolders(long g, int onlyCpu, long[] held1G)
    {
        bool any = false;
        uint key = RegionKey(3, g);
        for (int w = 0; w < _words; w++)
        {
            long bits = onlyCpu < 0 ? _mask1G[(g * _words) + w] : OwnBit(onlyCpu, w);
            long held = 0;
            while (bits != 0)
            {
                int b = BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                int cpu = (w << 6) + b;
                uint epoch = SyncEpoch(cpu, ref _cpus[cpu]);
                if (!RegionLive(cpu, epoch, key))
                {
                    if (onlyCpu < 0)
                    {
                        _mask1G[(g * _words) + w] &= ~(1L << b);
                    }
                }
                else if (Find(in _cpus[cpu], 3, g, epoch) >= 0)
                {
                    held |= 1L << b;
                }
            }

            held1G[w] = held;
            any |= held != 0;
        }

        return any;
    }

    private void Remove1GEntries(long g, long[] held1G)
    {
        for (int w = 0; w < _words; w++)
        {
            long bits = held1G[w];
            while (bits != 0)
            {
                int cpu = (w << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                RemoveIfValid(cpu, 3, g, _cpus[cpu].Epoch);
            }

            held1G[w] = 0;
        }
    }

    /// <summary>Invalidates pages [lo, hi) of 2M region r; fills <paramref name="pageHolders"/> and
    /// returns true when some CPU was probed.</summary>
    private bool InvalidateIn2MRegion(long r, long lo, long hi, int onlyCpu, bool any1G, int[] pageHolders, long[] held1G)
    {
        int n = (int)(hi - lo);
        bool cleared = false;
        uint key2M = RegionKey(2, r);
        for (int w = 0; w < _words; w++)
        {
            long maskIndex = (r * _words) + w;
            // One's own CPU is probed by its region table: its mask bit may be queued (deferred masks).
            long in2M = onlyCpu < 0 ? _mask2M.Read(maskIndex) : OwnBit(onlyCpu, w);
            long in1G = any1G ? held1G[w] : 0;
            long bits = in2M | in1G;
            if (bits != 0 && !cleared)
            {
                Array.Clear(pageHolders, 0, n);
                cleared = true;
            }

            while (bits != 0)
            {
                int b = BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                int cpu = (w << 6) + b;
                uint epoch = SyncEpoch(cpu, ref _cpus[cpu]);
                bool wholeRange = (in1G & (1L << b)) != 0;
                if ((in2M & (1L << b)) != 0)
                {
                    if (!RegionLive(cpu, epoch, key2M))
                    {
                        // Stale bit left by a full flush: nothing of this CPU is in the region.
                        if (onlyCpu < 0)
                        {
                            // The bit was set, so its chunk exists: nothing is allocated.
                            _mask2M.GetOrAdd(maskIndex) &= ~(1L << b);
                        }
                    }
                    else
                    {
                        wholeRange |= RemoveIfValid(cpu, 2, r, epoch);
                        for (int i = 0; i < n; i++)
                        {
                            if (RemoveIfValid(cpu, 1, lo + i, epoch) && !wholeRange)
                            {
                                pageHolders[i]++;
                            }
                        }
                    }
                }

                if (wholeRange)
                {
                    for (int i = 0; i < n; i++)
                    {
                        pageHolders[i]++;
                    }
                }
            }
        }

        return cleared;
    }

    /// <summary>True when no CPU's bit is set for the 1G and 2M region of a range inside one 2M
    /// region (a one-page flush, most often): nothing to probe. False when unsure.</summary>
    private bool NobodyHolds(long startPfn, long pages)
    {
        long r = startPfn >> PagesPer2MShift;
        if ((startPfn + pages - 1) >> PagesPer2MShift != r)
        {
            return false;
        }

        long g = startPfn >> PagesPer1GShift;
        long any = 0;
        for (int w = 0; w < _words; w++)
        {
            any |= _mask2M.Read((r * _words) + w) | _mask1G[(g * _words) + w];
        }

        return any == 0;
    }

    /// <summary><paramref name="cpu"/>'s bit if it lies in mask word <paramref name="word"/>, else 0.</summary>
    private static long OwnBit(int cpu, int word) => (cpu >> 6) == word ? 1L << cpu : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckPfn(long pfn)
    {
        if ((ulong)pfn >= (ulong)_endPfn)
        {
            ThrowPfn(pfn);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPfn(long pfn) =>
        throw new ArgumentOutOfRangeException(nameof(pfn), pfn, $"pfn outside the TLB model's range [0, {_endPfn})");

    /// <summary>Test hook: sets way <paramref name="way"/>'s bit in the mask of CPU
    /// <paramref name="cpu"/>'s 4K set of <paramref name="pfn"/> without a valid entry there.</summary>
    internal void CorruptWayMaskForTest(int cpu, long pfn, int way)
    {
        ref TlbCpuState s = ref Owner(cpu);
        uint epoch = SyncEpoch(cpu, ref s);
        LevelArray la = _levels[1];
        ref WayMask mask = ref MaskOf(in s, la, pfn & la.SetMask);
        Renew(ref mask, epoch);
        mask.Valid |= 1UL << way;
    }

    /// <summary>Tests: each set's valid-way mask equals the ways whose entry is valid.</summary>
    private void AssertWayMasks(int cpu, uint epoch)
    {
        for (int level = 1; level <= 3; level++)
        {
            LevelArray la = _levels[level];
            for (long set = 0; set <= la.SetMask; set++)
            {
                Span<TlbEntry> ways = Ways(in _cpus[cpu], la, set);
                ulong expected = 0;
                for (int w = 0; w < ways.Length; w++)
                {
                    if (ways[w].Key != 0 && ways[w].Epoch == epoch)
                    {
                        expected |= 1UL << w;
                    }
                }

                ulong got = ValidWays(MaskOf(in _cpus[cpu], la, set), epoch);
                if (got != expected)
                {
                    throw new InvalidOperationException($"cpu {cpu}: set {set} of level {level} has valid-way mask {got:x}, entries {expected:x}");
                }
            }
        }
    }

    private readonly record struct LevelArray(int Offset, int SetBase, int SetMask, int Ways);
}

/// <summary>One caller's scratch for <see cref="TlbModel.InvalidateRange"/>.</summary>
internal sealed class InvalidateScratch(int words)
{
    public int[] PageHolders { get; } = new int[PageGeometry.PagesPer2M];

    public long[] Held1G { get; } = new long[words];
}
