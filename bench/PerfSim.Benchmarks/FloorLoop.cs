using System.Runtime.CompilerServices;
using PerfSim.Core;

namespace PerfSim.Benchmarks;

/// <summary>
/// The floor of a simulated fault (issue 19): the least memory work one needs, on one thread, over
/// structures of the engine's sizes. Per fault: pop a free host frame, insert it into the page
/// cache (read the slot, check it is empty, write it, write the frame's owner record), clear its
/// direct-map PTE, stamp a per-page flush generation, bump the counters. No model, no time, no locks.
/// </summary>
/// <remarks>
/// Plain arrays on purpose, not the project's frame table or page cache: the floor is the yardstick
/// the speed gate divides the engine's throughput by, so it must measure the machine and nothing
/// the engine's engineers change. Built on <c>ShardedPageCache</c> or <c>FrameTable</c>, a slower
/// page cache would slow the yardstick with the engine and the ratio would hide it. The arrays are
/// the engine's per-frame sizes (frame record 8 B, 4 KiB PTE 1 B; engine-speed study), the page
/// cache one 8 B slot per guest page as its slot chunks hold. <see cref="Order.Scattered"/> visits
/// the guest pages in a seeded random permutation, as vCPUs fault random untouched pages of their
/// slices; <see cref="Order.PageOrder"/> in index order, for the prefetcher-friendly bound.
/// </remarks>
public sealed class FloorLoop
{
    public enum Order
    {
        Scattered,
        PageOrder,
    }

    private const byte PtePresent = 1;
    private const ulong MappingId = 1;

    private readonly int[] _order;       // guest page index of each fault, in fault order
    private readonly int[] _freeFrames;  // free host frames, popped from the end
    private readonly long[] _cache;      // per guest page: (pass << 32) | pfn; another pass's tag is an empty slot
    private readonly ulong[] _frames;    // per host frame: owner mapping and index
    private readonly byte[] _ptes;       // per host frame: its direct-map PTE
    private readonly uint[] _flushGen;   // per host frame: generation of its last flush
    private readonly long[] _counters = new long[2]; // faults, zeroed bytes
    private uint _generation;
    private int _pass;

    /// <param name="guestBytes">Guest memory: one fault per 4 KiB page.</param>
    /// <param name="hostBytes">Host RAM: the size of the per-frame arrays (at least the guest).</param>
    public FloorLoop(long guestBytes, long hostBytes, Order order, int seed = 1)
    {
        long guestPages = guestBytes / PageGeometry.PageSize;
        long hostFrames = hostBytes / PageGeometry.PageSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(guestPages, 1, nameof(guestBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(guestPages, hostFrames, nameof(guestBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hostFrames, int.MaxValue, nameof(hostBytes));

        _order = new int[guestPages];
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        if (order == Order.Scattered)
        {
            new Random(seed).Shuffle(_order);
        }

        // Popped from the end: frames come out in ascending pfn order, as the buddy allocator's
        // per-CPU lists hand out a fresh zone's frames.
        _freeFrames = new int[hostFrames];
        for (int i = 0; i < _freeFrames.Length; i++)
        {
            _freeFrames[i] = _freeFrames.Length - 1 - i;
        }

        _cache = new long[guestPages];
        _frames = new ulong[hostFrames];
        _ptes = new byte[hostFrames];
        Array.Fill(_ptes, PtePresent);
        _flushGen = new uint[hostFrames];
    }

    /// <summary>Faults per <see cref="Run"/>: every guest page once.</summary>
    public int Faults => _order.Length;

    /// <summary>The guest page index of each fault of a pass, in fault order.</summary>
    internal ReadOnlySpan<int> FaultOrder => _order;

    /// <summary>The page-cache entry of a guest page: the host frame inserted there by the last
    /// pass, or -1 if none was.</summary>
    internal long CachedFrame(int index) => _pass > 0 && (int)(_cache[index] >> 32) == _pass ? (uint)_cache[index] : -1;

    /// <summary>Faults and zeroed bytes counted so far, over every pass.</summary>
    public (long Faults, long ZeroedBytes) Counters => (_counters[0], _counters[1]);

    /// <summary>One pass: every guest page faulted once (the page cache starts empty: the previous
    /// pass's slots carry its tag). Compiled optimised at once, so a pass measures the same code
    /// from the first call, in BenchmarkDotNet and in the gate alike.</summary>
    /// <returns>The last flush generation, so the work cannot be dropped.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Run()
    {
        int[] order = _order;
        int[] free = _freeFrames;
        long[] cache = _cache;
        ulong[] frames = _frames;
        byte[] ptes = _ptes;
        uint[] flushGen = _flushGen;
        long[] counters = _counters;
        int pass = ++_pass;
        long tag = (long)pass << 32;
        int top = free.Length;
        uint generation = _generation;
        for (int i = 0; i < order.Length; i++)
        {
            int index = order[i];
            int pfn = free[--top];
            ref long slot = ref cache[index];
            if ((int)(slot >> 32) == pass)
            {
                throw new InvalidOperationException("page cache slot already filled in this pass");
            }

            slot = tag | (uint)pfn;
            frames[pfn] = (MappingId << 48) | (uint)index;
            ptes[pfn] &= unchecked((byte)~PtePresent);
            flushGen[pfn] = ++generation;
            counters[0]++;
            counters[1] += PageGeometry.PageSize;
        }

        _generation = generation;
        return generation;
    }

    /// <summary>Faults per wall second over <paramref name="passes"/> passes.</summary>
    public double FaultsPerSecond(int passes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int p = 0; p < passes; p++)
        {
            Run();
        }

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (double)passes * Faults / seconds;
    }
}
