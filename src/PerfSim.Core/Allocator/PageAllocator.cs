using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using PerfSim.Core.Frames;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Allocator;

/// <summary>
/// The page allocator: zones, 2 MiB pageblocks, buddy free lists of orders 0..10 per freetype,
/// per-CPU lists for order 0, and the ALLOC_UNMAPPED pageblock flips. It places pages the way
/// mm/page_alloc.c does, closely enough that direct-map fragmentation comes out right.
/// </summary>
/// <remarks>
/// <para><b>Concurrency contract.</b> Each simulated CPU's per-CPU lists and counters have a
/// single writer: the caller passing that <c>cpu</c>. Callers must never use the same <c>cpu</c>
/// from two threads at once (the engine owns each simulated CPU on one host thread at a time).
/// The buddy lists of a zone are protected by its zone lock (<c>zone-&gt;lock</c>), taken for
/// per-CPU refills and drains, allocations and frees of order &gt; 0, pageblock flips and remaps.
/// The direct-map hooks (<see cref="IPageblockMapper"/>) and the free check (<see cref="IFreeCheck"/>)
/// run with no zone lock held. The constructor, <see cref="SetFreeCheck"/> and the test hooks are
/// single-threaded.</para>
/// <para><b>Determinism.</b> No hashing by address, no time, no randomness: for the same sequence of
/// calls (per CPU, and the same interleaving across CPUs) the same pfns come out.</para>
/// <para><b>Memory.</b> The free-list links live in the free frames' own records (<see cref="Frame"/>);
/// per frame the allocator adds only the buddy head byte. Per-pageblock flags and per-CPU lists and
/// counters live in the arena; no managed allocation per operation.</para>
/// </remarks>
public sealed partial class PageAllocator : IPageTableAllocator
{
    /// <summary><c>MAX_PAGE_ORDER</c> (include/linux/mmzone.h): the largest buddy block is 4 MiB.</summary>
    public const int MaxPageOrder = 10;

    /// <summary>Number of buddy orders (0..<see cref="MaxPageOrder"/>).</summary>
    public const int NrOrders = MaxPageOrder + 1;

    /// <summary><c>pageblock_order</c> = <c>HPAGE_PMD_ORDER</c> on x86-64: a pageblock is one 2 MiB PMD.</summary>
    public const int PageblockOrder = 9;

    /// <summary>4 KiB pages per pageblock.</summary>
    public const long PageblockPages = 1L << PageblockOrder;

    private const long DmaEndPfn = (16 * PageGeometry.MiB) >> PageGeometry.PageShift;
    private const long Dma32EndPfn = (4 * PageGeometry.GiB) >> PageGeometry.PageShift;

    /// <summary>Slot of a CPU's staged batch, after its 3 zones × 3 banks of per-CPU lists.</summary>
    private const int StagedSlot = 3 * FreeTypes.Count;

    /// <summary>The bank a batch is staged for: order-0 allocations without flags (folios, page tables).</summary>
    private const FreeType StagedType = FreeType.Unmovable;

    /// <summary>Per-CPU list heads per CPU: 3 zones × 3 banks and the staged batch, rounded up to a
    /// power of two (16 heads of 16 B, two cache lines): one chunk of <see cref="_pcp"/> per CPU, so
    /// that two CPUs never write the same line.</summary>
    private const int PcpStrideShift = 4;

    /// <summary>Pageblocks per chunk of <see cref="_pageblocks"/>: 2^10 (1 KiB for 2 GiB).</summary>
    private const int PageblockChunkShift = 10;

    private readonly FrameTable _frames;
    private readonly IPageblockMapper? _mapper;
    private readonly int _cpuCount;

    /// <summary>Per pageblock: <see cref="PageblockFlags"/> (the migratetype bits and the unmapped
    /// flag of <c>pageblock_flags</c>), stored XOR <see cref="PageblockFlags.Movable"/> so that the
    /// boot state (every pageblock movable) is all zero, in chunks of 1,024 pageblocks (2 GiB)
    /// allocated at the first pageblock of theirs that leaves it: a 1 TiB host whose run changes
    /// the type of a few pageblocks pays for a few chunks, not a byte per 2 MiB.</summary>
    private readonly ChunkedNativeArray<byte> _pageblocks;

    /// <summary>Per CPU, per zone, per freetype bank: the order-0 per-CPU list (<c>per_cpu_pages</c>).
    /// A CPU's heads (a chunk) are allocated at its first use of them: a host of 256 CPUs running
    /// a few pays for those (all-zero heads are empty lists).</summary>
    private readonly ChunkedNativeArray<FreeList> _pcp;

    /// <summary>Per CPU, a cache line of counters, allocated (zero) at the CPU's first count.</summary>
    private readonly ChunkedNativeArray<CpuAllocatorCounters> _counters;

    /// <summary>Per CPU: a staged batch was requested and the engine has not finished staging.</summary>
    private readonly bool[] _stagePending;

    private readonly List<int> _stageRequests;

    /// <summary>Zones indexed by <see cref="ZoneType"/>; null when the zone has no RAM.</summary>
    private readonly Zone?[] _zoneByType = new Zone?[3];

    /// <summary>The zonelist: Normal, then DMA32, then DMA (highest allowed zone first).</summary>
    private readonly Zone[] _zonelist;

    private IFreeCheck? _freeCheck;
    private int _injectedFailures;
    private AllocationKinds _injectedKinds;

    /// <summary>Boots the allocator over <paramref name="frames"/>: reserves the low memory and the
    /// kernel image, then frees every other RAM frame into the buddy lists as
    /// <c>memblock_free_all()</c> does.</summary>
    public PageAllocator(NativeArena arena, FrameTable frames, AllocatorOptions options, IPageblockMapper? mapper = null, IFreeCheck? freeCheck = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CpuCount, 1);
        if (frames.EndPfn >= Frame.MaxLink)
        {
            throw new ArgumentException($"the allocator links free frames with {Frame.LinkBits}-bit pfns (less than 8 TiB of physical address space less 64 KiB)", nameof(frames));
        }

        _frames = frames;
        _mapper = mapper;
        _freeCheck = freeCheck;
        _cpuCount = options.CpuCount;
        _pageblocks = new ChunkedNativeArray<byte>(arena, (frames.EndPfn + PageblockPages - 1) >> PageblockOrder, PageblockChunkShift);
        System.Diagnostics.Debug.Assert(StagedSlot < 1 << PcpStrideShift, "a CPU's list heads fit its chunk");
        _pcp = new ChunkedNativeArray<FreeList>(arena, (long)_cpuCount << PcpStrideShift, PcpStrideShift);
        _counters = new ChunkedNativeArray<CpuAllocatorCounters>(arena, _cpuCount, 0);
        _stagePending = new bool[_cpuCount];
        _stageRequests = new List<int>(_cpuCount);

        // memmap_init_range() marks every pageblock MIGRATE_MOVABLE at boot (here: the all-zero
        // state of _pageblocks); unmovable allocations then claim pageblocks through the fallback path.

        ReserveBootMemory(options);
        _zonelist = BuildZones(options);
        FreeBootMemory();
    }

    /// <summary>The zones with RAM, in zonelist order (Normal first).</summary>
    public IReadOnlyList<ZoneInfo> Zones => Array.ConvertAll(_zonelist, z => new ZoneInfo(z.Type, z.StartPfn, z.EndPfn, z.ManagedPages, z.PcpBatch, z.PcpHigh));

    /// <summary>Number of simulated CPUs.</summary>
    public int CpuCount => _cpuCount;

    /// <summary>CPUs whose per-CPU lists and whose counters were allocated (tests: CPUs that
    /// never allocated or freed cost nothing).</summary>
    internal (int Lists, int Counters) PerCpuChunks => (_pcp.AllocatedChunks, _counters.AllocatedChunks);

    /// <summary>Chunks of pageblock flags allocated (tests: pageblocks still movable cost nothing).</summary>
    internal int PageblockChunks => _pageblocks.AllocatedChunks;

    /// <summary>Installs the free-path checker (single-threaded setup, like the constructor).</summary>
    public void SetFreeCheck(IFreeCheck? freeCheck) => _freeCheck = freeCheck;

    /// <summary>The zone that <paramref name="pfn"/> belongs to, by physical address.</summary>
    public static ZoneType ZoneOf(long pfn) => pfn < DmaEndPfn ? ZoneType.Dma : pfn < Dma32EndPfn ? ZoneType.Dma32 : ZoneType.Normal;

    /// <summary>True when the pageblock holding <paramref name="pfn"/> carries the unmapped flag
    /// (its free pages are out of the direct map).</summary>
    public bool IsPageblockUnmapped(long pfn) => (ReadPageblock(pfn) & PageblockFlags.Unmapped) != 0;

    /// <summary>
    /// Allocates 2^<paramref name="order"/> contiguous frames (<c>alloc_pages</c>) and marks them
    /// <see cref="FrameOwner.Allocated"/> (the head gets <see cref="FrameFlags.Head"/> when order &gt; 0).
    /// Order 0 goes through this CPU's per-CPU list; higher orders (e.g. a 2 MiB folio, order 9)
    /// come straight from the buddy lists.
    /// </summary>
    /// <returns>False when no zone can satisfy the request (or a failure was injected): <c>-ENOMEM</c>.</returns>
    public bool TryAllocatePages(int cpu, int order, AllocFlags flags, out long pfn)
    {
        FreeType type = FreeTypeFor(flags, order);
        AllocationKinds kind = type == FreeType.UnmappedUnmovable ? AllocationKinds.Unmapped : AllocationKinds.Mapped;
        return TryAllocate(cpu, order, type, kind, FrameOwner.Allocated, out pfn);
    }

    /// <summary>Allocates one page-table page for the direct map (<c>pagetable_alloc(GFP_KERNEL, 0)</c>):
    /// order 0, unmovable, marked <see cref="FrameOwner.PageTable"/>.</summary>
    public bool TryAllocatePageTable(int cpu, out long pfn)
    {
        if (!TryAllocate(cpu, 0, FreeType.Unmovable, AllocationKinds.PageTable, FrameOwner.PageTable, out pfn))
        {
            return false;
        }

        _counters.GetOrAdd(cpu).PageTableAllocations++;
        return true;
    }

    /// <summary>
    /// Frees 2^<paramref name="order"/> frames starting at <paramref name="pfn"/> (<c>__free_pages</c>).
    /// The frames must be <see cref="FrameOwner.Allocated"/> or <see cref="FrameOwner.PageTable"/>
    /// (a page-cache folio must leave the page cache first). They go to the free lists of their
    /// pageblock's freetype: pages of an unmapped pageblock return to the unmapped lists and stay
    /// out of the direct map.
    /// </summary>
    public void FreePages(int cpu, long pfn, int order)
    {
        CheckCpu(cpu);
        CheckFreeable(pfn, order);
        Zone zone = ZoneFor(pfn);
        FreeType type = FreeTypeOfPageblock(pfn);
        _freeCheck?.OnFree(cpu, pfn, order, type == FreeType.UnmappedUnmovable);

        long pages = 1L << order;
        for (long p = pfn; p < pfn + pages; p++)
        {
            Reset(ref _frames[p], FrameOwner.Free, FrameFlags.None);
        }

        ref CpuAllocatorCounters counters = ref _counters.GetOrAdd(cpu);
        counters.Frees++;
        counters.PagesFreed += pages;
        if (order == 0)
        {
            FreeToPcp(cpu, zone, pfn, type);
            return;
        }

        lock (zone.Lock)
        {
            // free_one_page(): the freetype is read again under zone->lock, where a concurrent
            // pageblock claim cannot change it.
            FreeOneBlockLocked(zone, pfn, order, FreeTypeOfPageblock(pfn), toTail: false);
        }
    }

    /// <summary>Frees a page-table page (a collapse gave it back).</summary>
    public void FreePageTable(int cpu, long pfn) => FreePages(cpu, pfn, 0);

    /// <summary>Moves every page of this CPU's per-CPU lists back to the buddy lists
    /// (<c>drain_local_pages</c>); a staged batch counts as part of its list. Only the CPU's owner
    /// may call it.</summary>
    public void DrainLocalPages(int cpu)
    {
        CheckCpu(cpu);
        ref FreeList staged = ref StagedBatch(cpu);
        ref FreeList stagedBank = ref PcpList(cpu, _zonelist[0], StagedType);
        while (staged.Count > 0)
        {
            long pfn = staged.First - 1L;
            Unlink(ref staged, pfn);
            PushBack(ref stagedBank, pfn);
        }

        foreach (Zone zone in _zonelist)
        {
            for (int bank = 0; bank < FreeTypes.Count; bank++)
            {
                ref FreeList pcp = ref PcpList(cpu, zone, (FreeType)bank);
                DrainPcpList(cpu, zone, ref pcp, pcp.Count);
            }
        }
    }

    /// <summary>Makes the next <paramref name="count"/> allocations of the given kinds fail, for tests
    /// of <c>-ENOMEM</c> paths. A new call replaces the previous injection.</summary>
    public void InjectFailures(int count, AllocationKinds kinds = AllocationKinds.All)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Volatile.Write(ref _injectedFailures, 0);
        _injectedKinds = kinds;
        Volatile.Write(ref _injectedFailures, count);
    }

    /// <summary>Per-CPU list refills made by <paramref name="cpu"/> so far: lets a caller charge
    /// the refill to the allocation that triggered it. Owner read.</summary>
    public long PcpRefillsOf(int cpu) => _counters.Read(cpu).PcpRefills;

    /// <summary>The refills of <see cref="PcpRefillsOf"/> that took pages from the zone then (not
    /// from a staged batch): the ones that touched shared state. Owner read.</summary>
    public long ZoneRefillsOf(int cpu)
    {
        CpuAllocatorCounters c = _counters.Read(cpu);
        return c.PcpRefills - c.StagedRefills;
    }

    /// <summary>The counters of all CPUs, summed now. Exact when no CPU is allocating concurrently.</summary>
    public AllocatorCounters GetCounters()
    {
        var sum = default(CpuAllocatorCounters);
        for (int cpu = 0; cpu < _cpuCount; cpu++)
        {
            CpuAllocatorCounters c = _counters.Read(cpu);
            sum.Allocations += c.Allocations;
            sum.PagesAllocated += c.PagesAllocated;
            sum.Frees += c.Frees;
            sum.PagesFreed += c.PagesFreed;
            sum.PageTableAllocations += c.PageTableAllocations;
            sum.PcpRefills += c.PcpRefills;
            sum.PcpDrains += c.PcpDrains;
            sum.PageblockFlips += c.PageblockFlips;
            sum.PageblockRemaps += c.PageblockRemaps;
            sum.ZoneFallbacks += c.ZoneFallbacks;
            sum.MigratetypeFallbacks += c.MigratetypeFallbacks;
            sum.FailedAllocations += c.FailedAllocations;
            sum.InjectedFailures += c.InjectedFailures;
        }

        return new AllocatorCounters(
            sum.Allocations, sum.PagesAllocated, sum.Frees, sum.PagesFreed, sum.PageTableAllocations, sum.PcpRefills, sum.PcpDrains,
            sum.PageblockFlips, sum.PageblockRemaps, sum.ZoneFallbacks, sum.MigratetypeFallbacks, sum.FailedAllocations, sum.InjectedFailures);
    }

    private bool TryAllocate(int cpu, int order, FreeType type, AllocationKinds kind, FrameOwner owner, out long pfn)
    {
        CheckCpu(cpu);
        ref CpuAllocatorCounters counters = ref _counters.GetOrAdd(cpu);
        if (Volatile.Read(ref _injectedFailures) != 0 && TryConsumeInjectedFailure(kind))
        {
            counters.InjectedFailures++;
            counters.FailedAllocations++;
            pfn = -1;
            return false;
        }

        // get_page_from_freelist(): walk the zonelist, highest zone first.
        for (int i = 0; i < _zonelist.Length; i++)
        {
            if (TryAllocateFromZone(cpu, _zonelist[i], order, type, out pfn))
            {
                if (i > 0)
                {
                    counters.ZoneFallbacks++;
                }

                MarkAllocated(pfn, order, owner);
                counters.Allocations++;
                counters.PagesAllocated += 1L << order;
                return true;
            }
        }

        counters.FailedAllocations++;
        pfn = -1;
        return false;
    }

    /// <summary>One zone of the zonelist (<c>rmqueue</c>): the free lists of the freetype (with the
    /// migratetype fallback for mapped memory); when they are empty, convert a whole free pageblock
    /// between mapped and unmapped and try once more.</summary>
    private bool TryAllocateFromZone(int cpu, Zone zone, int order, FreeType type, out long pfn)
    {
        if (TryTakeFromZone(cpu, zone, order, type, out pfn))
        {
            return true;
        }

        bool converted = type == FreeType.UnmappedUnmovable
            ? TryFlipPageblockToUnmapped(cpu, zone)
            : TryRemapUnmappedPageblock(cpu, zone, type);
        return converted && TryTakeFromZone(cpu, zone, order, type, out pfn);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTakeFromZone(int cpu, Zone zone, int order, FreeType type, out long pfn)
    {
        if (order == 0)
        {
            return TryTakeFromPcp(cpu, zone, type, out pfn);
        }

        lock (zone.Lock)
        {
            return RmqueueLocked(cpu, zone, order, type, out pfn);
        }
    }

    // ---- Per-CPU lists (order 0) ----

    /// <summary>The frame an order-0 allocation with <paramref name="flags"/> by <paramref name="cpu"/>
    /// would get from its per-CPU list of the first zone, without a refill; false when the list is
    /// empty (the allocation would take the zone lock) or failures are injected. Owner read.</summary>
    public bool TryPeekPcp(int cpu, AllocFlags flags, out long pfn)
    {
        CheckCpu(cpu);
        FreeType type = FreeTypeFor(flags, 0);
        ref FreeList pcp = ref PcpList(cpu, _zonelist[0], type);
        uint first = pcp.Count != 0 ? pcp.First : type == StagedType && !_stagePending[cpu] ? StagedBatch(cpu).First : 0;
        if (first == 0 || Volatile.Read(ref _injectedFailures) != 0)
        {
            pfn = -1;
            return false;
        }

        pfn = first - 1L;
        return true;
    }

    // ---- Staged batches ----
    // The engine draws a CPU's next per-CPU list batch ahead, between quanta, one CPU after another
    // in CPU order: the refill that takes it touches only that CPU's state, so it may run in a
    // parallel round, and which pages each CPU gets does not depend on host scheduling. Staged
    // pages stay free frames off the buddy lists (like a per-CPU list's); the refill is counted and
    // charged when it takes them.

    /// <summary>Asks for <paramref name="cpu"/>'s next batch (order-0 allocations without flags,
    /// first zone) to be drawn by <see cref="DrawStagedBatches"/>, unless one is staged already.
    /// Until <see cref="FinishStaging"/> the CPU's batch is pending: <see cref="TryPeekPcp"/> then
    /// says an empty list needs the zone, whether or not the draw is done, so the answer does not
    /// depend on which host thread got there first. Single-threaded (between rounds).</summary>
    public void RequestStagedBatch(int cpu)
    {
        CheckCpu(cpu);
        if (StagedBatch(cpu).Count == 0 && !_stagePending[cpu])
        {
            _stagePending[cpu] = true;
            _stageRequests.Add(cpu);
        }
    }

    /// <summary>Draws the requested batches under <c>zone-&gt;lock</c>, in the order requested. It may
    /// run beside a parallel round: a round's CPUs take no page from the zone, and a CPU with a
    /// pending batch does not read it.</summary>
    public void DrawStagedBatches()
    {
        Zone zone = _zonelist[0];
        foreach (int cpu in _stageRequests)
        {
            ref FreeList staged = ref StagedBatch(cpu);
            lock (zone.Lock)
            {
                while (staged.Count < zone.PcpBatch && RmqueueLocked(cpu, zone, 0, StagedType, out long pfn))
                {
                    PushBack(ref staged, pfn);
                }
            }
        }
    }

    /// <summary>Ends the pending state of the batches requested so far (drawn or not: an undrawn
    /// request lapses). Single-threaded, after <see cref="DrawStagedBatches"/> has returned.</summary>
    public void FinishStaging()
    {
        foreach (int cpu in _stageRequests)
        {
            _stagePending[cpu] = false;
        }

        _stageRequests.Clear();
    }

    /// <summary><c>rmqueue_pcplist</c>: the head of the list (the most recently freed, cache-hot page),
    /// after a refill of one batch when the list is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTakeFromPcp(int cpu, Zone zone, FreeType type, out long pfn)
    {
        ref FreeList pcp = ref PcpList(cpu, zone, type);
        if (pcp.Count == 0 && RefillPcp(cpu, zone, type, ref pcp) == 0)
        {
            pfn = -1;
            return false;
        }

        pfn = pcp.First - 1L;
        Unlink(ref pcp, pfn);
        return true;
    }

    /// <summary><c>rmqueue_bulk</c>: up to one batch of pages under a single <c>zone-&gt;lock</c>
    /// acquisition, appended to the tail in the order the buddy lists give them.</summary>
    private int RefillPcp(int cpu, Zone zone, FreeType type, ref FreeList pcp)
    {
        if (type == StagedType && zone == _zonelist[0] && StagedBatch(cpu).Count != 0)
        {
            // The batch drawn ahead (DrawStagedBatches): the list is empty, so the staged list becomes it.
            ref FreeList staged = ref StagedBatch(cpu);
            pcp = staged;
            staged = default;
            _counters.GetOrAdd(cpu).PcpRefills++;
            _counters.GetOrAdd(cpu).StagedRefills++;
            return pcp.Count;
        }

        int taken = 0;
        lock (zone.Lock)
        {
            while (taken < zone.PcpBatch && RmqueueLocked(cpu, zone, 0, type, out long pfn))
            {
                PushBack(ref pcp, pfn);
                taken++;
            }
        }

        if (taken > 0)
        {
            _counters.GetOrAdd(cpu).PcpRefills++;
        }

        return taken;
    }

    /// <summary><c>free_frozen_page_commit</c>: push on the head; once the list reaches <c>high</c>,
    /// return one batch to the buddy lists.</summary>
    private void FreeToPcp(int cpu, Zone zone, long pfn, FreeType type)
    {
        ref FreeList pcp = ref PcpList(cpu, zone, type);
        PushFront(ref pcp, pfn);
        if (pcp.Count >= zone.PcpHigh)
        {
            DrainPcpList(cpu, zone, ref pcp, zone.PcpBatch);
        }
    }

    /// <summary><c>free_pcppages_bulk</c>: the oldest pages first (from the tail), each to the buddy
    /// list of its pageblock's freetype as read under <c>zone-&gt;lock</c>.</summary>
    private void DrainPcpList(int cpu, Zone zone, ref FreeList pcp, int count)
    {
        if (count <= 0 || pcp.Count == 0)
        {
            return;
        }

        lock (zone.Lock)
        {
            for (; count > 0 && pcp.Last != 0; count--)
            {
                long pfn = pcp.Last - 1L;
                Unlink(ref pcp, pfn);
                FreeOneBlockLocked(zone, pfn, 0, FreeTypeOfPageblock(pfn), toTail: false);
            }
        }

        _counters.GetOrAdd(cpu).PcpDrains++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref FreeList PcpList(int cpu, Zone zone, FreeType type) =>
        ref _pcp.GetOrAdd(((long)cpu << PcpStrideShift) + ((int)zone.Type * FreeTypes.Count) + (int)type);

    private ref FreeList StagedBatch(int cpu) => ref _pcp.GetOrAdd(((long)cpu << PcpStrideShift) + StagedSlot);

    /// <summary>True when <paramref name="cpu"/> has used its per-CPU lists (else they are empty).</summary>
    private bool HasPcpLists(int cpu) => _pcp.HasChunk((long)cpu << PcpStrideShift);

    // ---- Frame state ----

    private void MarkAllocated(long pfn, int order, FrameOwner owner)
    {
        long pages = 1L << order;
        Reset(ref _frames[pfn], owner, order > 0 ? FrameFlags.Head : FrameFlags.None);
        for (long p = pfn + 1; p < pfn + pages; p++)
        {
            Reset(ref _frames[p], owner, FrameFlags.None);
        }
    }

    /// <summary>Overwrites a whole frame (one store: mapping, index and links 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reset(ref Frame frame, FrameOwner owner, FrameFlags flags) => frame.Reset(owner, flags);

    private void CheckFreeable(long pfn, int order)
    {
        if ((uint)order > MaxPageOrder || pfn < 0 || (pfn & ((1L << order) - 1)) != 0 || pfn + (1L << order) > _frames.EndPfn)
        {
            ThrowBadFree(pfn, order, "misaligned or out of range");
        }

        for (long p = pfn; p < pfn + (1L << order); p++)
        {
            FrameOwner owner = _frames[p].Owner;
            if (owner is not (FrameOwner.Allocated or FrameOwner.PageTable))
            {
                ThrowBadFree(p, order, $"frame is {owner} (double free, or still in a page cache)");
            }
        }
    }

    // ---- Fault injection ----

    private bool TryConsumeInjectedFailure(AllocationKinds kind)
    {
        if ((_injectedKinds & kind) == 0)
        {
            return false;
        }

        int left = Volatile.Read(ref _injectedFailures);
        while (left > 0)
        {
            int seen = Interlocked.CompareExchange(ref _injectedFailures, left - 1, left);
            if (seen == left)
            {
                return true;
            }

            left = seen;
        }

        return false;
    }

    // ---- Pageblocks and freetypes ----

    private PageblockFlags ReadPageblock(long pfn)
    {
        ref byte stored = ref _pageblocks.RefOrNull(pfn >> PageblockOrder);
        return (PageblockFlags)((Unsafe.IsNullRef(ref stored) ? 0 : Volatile.Read(ref stored)) ^ (byte)PageblockFlags.Movable);
    }

    private FreeType FreeTypeOfPageblock(long pfn)
    {
        PageblockFlags flags = ReadPageblock(pfn);
        return (flags & PageblockFlags.Unmapped) != 0 ? FreeType.UnmappedUnmovable
            : (flags & PageblockFlags.Movable) != 0 ? FreeType.Movable
            : FreeType.Unmovable;
    }

    /// <summary>Sets the pageblock flags of every pageblock in [pfn, pfn + 2^order) to <paramref name="type"/>.</summary>
    private void SetPageblockType(long pfn, int order, FreeType type)
    {
        PageblockFlags flags = type switch
        {
            FreeType.Movable => PageblockFlags.Movable,
            FreeType.UnmappedUnmovable => PageblockFlags.Unmapped,
            _ => PageblockFlags.None,
        };
        long first = pfn >> PageblockOrder;
        long last = (pfn + (1L << order) - 1) >> PageblockOrder;
        byte stored = (byte)(flags ^ PageblockFlags.Movable);
        for (long block = first; block <= last; block++)
        {
            // Movable into a chunk never written is already there: no chunk for it.
            if (stored != 0 || _pageblocks.HasChunk(block))
            {
                Volatile.Write(ref _pageblocks.GetOrAdd(block), stored);
            }
        }
    }

    private static FreeType FreeTypeFor(AllocFlags flags, int order)
    {
        if ((uint)order > MaxPageOrder)
        {
            ThrowArgument(nameof(order), "order must be 0..MAX_PAGE_ORDER (10)");
        }

        if ((flags & AllocFlags.Unmapped) == 0)
        {
            return (flags & AllocFlags.Movable) != 0 ? FreeType.Movable : FreeType.Unmovable;
        }

        if ((flags & AllocFlags.Movable) != 0)
        {
            ThrowArgument(nameof(flags), "ALLOC_UNMAPPED is supported only for unmovable memory");
        }

        if (order > PageblockOrder)
        {
            ThrowArgument(nameof(order), "ALLOC_UNMAPPED flips one pageblock at a time: order must be at most pageblock_order (9)");
        }

        return FreeType.UnmappedUnmovable;
    }

    private Zone ZoneFor(long pfn) => _zoneByType[(int)ZoneOf(pfn)] ?? throw new InvalidOperationException("pfn in a zone without RAM");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckCpu(int cpu)
    {
        if ((uint)cpu >= (uint)_cpuCount)
        {
            ThrowArgument(nameof(cpu), "cpu outside 0..CpuCount-1");
        }
    }

    // ---- Boot ----

    private void ReserveBootMemory(AllocatorOptions options)
    {
        Reserve(0, options.ReservedLowBytes);
        Reserve(options.KernelImageStart, options.KernelImageStart + options.KernelImageBytes);
    }

    private void Reserve(long startByte, long endByte)
    {
        long first = startByte >> PageGeometry.PageShift;
        long end = Math.Min((endByte + PageGeometry.PageSize - 1) >> PageGeometry.PageShift, _frames.EndPfn);
        for (long pfn = Math.Max(first, 0); pfn < end; pfn++)
        {
            if (_frames.Read(pfn).Owner == FrameOwner.Free)
            {
                _frames[pfn].Owner = FrameOwner.Reserved;
            }
        }
    }

    private Zone[] BuildZones(AllocatorOptions options)
    {
        (ZoneType Type, long Start, long End)[] spans =
        [
            (ZoneType.Dma, 0, DmaEndPfn),
            (ZoneType.Dma32, DmaEndPfn, Dma32EndPfn),
            (ZoneType.Normal, Dma32EndPfn, long.MaxValue),
        ];
        var present = new List<Zone>();
        foreach ((ZoneType type, long start, long end) in spans)
        {
            long clippedEnd = Math.Min(end, _frames.EndPfn);
            long managed = _frames.CountFree(start, clippedEnd);

            if (managed == 0)
            {
                continue;
            }

            int batch = options.PcpBatch ?? ZoneBatchSize(managed);
            var zone = new Zone(type, start, clippedEnd)
            {
                ManagedPages = managed,
                PcpBatch = batch,
                PcpHigh = options.PcpHigh ?? 6 * batch,
            };
            _zoneByType[(int)type] = zone;
            present.Add(zone);
        }

        if (present.Count == 0)
        {
            throw new ArgumentException("no free RAM left after the boot reservations", nameof(options));
        }

        present.Reverse();
        return [.. present];
    }

    /// <summary><c>zone_batchsize()</c> (mm/page_alloc.c): about a quarter of a 1 MiB worth of pages,
    /// clamped to 2^n - 1 so that batches do not alias cache colours: 63 for any zone of 1 GiB or
    /// more. The kernel's result 0 for tiny zones (DMA shows "batch: 1") is clamped to 1.</summary>
    internal static int ZoneBatchSize(long managedPages)
    {
        long batch = Math.Min(managedPages >> 10, PageGeometry.MiB / PageGeometry.PageSize);
        batch /= 4;
        batch = Math.Max(batch, 1);
        batch = (long)BitOperations.RoundUpToPowerOf2((ulong)(batch + (batch / 2)) + 1) / 2 - 1;
        return (int)Math.Max(batch, 1);
    }

    /// <summary><c>memblock_free_all()</c> → <c>__free_pages_memory()</c>: every run of free RAM is
    /// freed in the largest naturally aligned blocks, each added to the tail of its list
    /// (<c>FPI_TO_TAIL</c>), so the lists start in ascending pfn order. Under <c>zone-&gt;lock</c>, as
    /// <c>free_one_page()</c> takes it (mm/page_alloc.c), though nothing else runs yet. A block of
    /// the largest order whose records were never written goes on its list through its chunk's boot
    /// record (<see cref="AddBootBlockLocked"/>), so boot allocates no records for it.</summary>
    private void FreeBootMemory()
    {
        foreach (Zone zone in _zonelist)
        {
            lock (zone.Lock)
            {
                FreeBootMemoryLocked(zone);
            }
        }
    }

    private void FreeBootMemoryLocked(Zone zone)
    {
        long pfn = zone.StartPfn;
        while (pfn < zone.EndPfn)
        {
            if (pfn + FrameTable.ChunkFrames <= zone.EndPfn && _frames.IsUntouchedFreeChunk(pfn) && FreeTypeOfPageblock(pfn) == FreeType.Movable)
            {
                AddBootBlockLocked(zone, pfn);
                pfn += FrameTable.ChunkFrames;
                continue;
            }

            if (_frames.Read(pfn).Owner != FrameOwner.Free)
            {
                pfn++;
                continue;
            }

            // The run ends where an untouched chunk starts: blocks are aligned and no larger than
            // a chunk, so none crosses that boundary, and the blocks before it are the same.
            long runEnd = pfn;
            while (runEnd < zone.EndPfn && _frames.Read(runEnd).Owner == FrameOwner.Free && (runEnd == pfn || !_frames.IsUntouchedFreeChunk(runEnd)))
            {
                runEnd++;
            }

            while (pfn < runEnd)
            {
                int order = Math.Min(MaxPageOrder, BitOperations.TrailingZeroCount(pfn | (1L << MaxPageOrder)));
                while (pfn + (1L << order) > runEnd)
                {
                    order--;
                }

                FreeOneBlockLocked(zone, pfn, order, FreeTypeOfPageblock(pfn), toTail: true);
                pfn += 1L << order;
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowArgument(string name, string message) => throw new ArgumentException(message, name);

    [DoesNotReturn]
    private static void ThrowBadFree(long pfn, int order, string why) =>
        throw new InvalidOperationException(FormattableString.Invariant($"bad free of pfn {pfn} order {order}: {why}"));
}

/// <summary>The per-pageblock bits the model keeps (<c>pageblock_flags</c>).</summary>
[Flags]
internal enum PageblockFlags : byte
{
    /// <summary>Unmovable, mapped.</summary>
    None = 0,

    /// <summary>Migratetype MOVABLE (otherwise UNMOVABLE).</summary>
    Movable = 1 << 0,

    /// <summary>The pageblock is out of the direct map (ALLOC_UNMAPPED's pageblock flag).</summary>
    Unmapped = 1 << 1,
}
