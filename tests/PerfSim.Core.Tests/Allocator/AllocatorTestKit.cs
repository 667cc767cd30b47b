using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Tests.Allocator;

/// <summary>A fresh arena, frame table and allocator per test; disposing frees all native memory.</summary>
internal sealed class AllocatorHost : IDisposable
{
    public AllocatorHost(MemoryLayout layout, AllocatorOptions options, FakeDirectMap? directMap = null)
    {
        Arena = new NativeArena();
        Frames = new FrameTable(Arena, layout);
        DirectMap = directMap ?? new FakeDirectMap();
        Allocator = new PageAllocator(Arena, Frames, options, DirectMap, DirectMap);
    }

    public NativeArena Arena { get; }

    public FrameTable Frames { get; }

    public FakeDirectMap DirectMap { get; }

    public PageAllocator Allocator { get; }

    /// <summary>64 MiB, no boot reservations: DMA (8 pageblocks) and DMA32 (24 pageblocks).</summary>
    public static AllocatorHost Small(int cpus = 1, int? pcpBatch = null, int? pcpHigh = null) =>
        new(MemoryLayout.FromSize(64 * PageGeometry.MiB), new AllocatorOptions
        {
            CpuCount = cpus,
            ReservedLowBytes = 0,
            KernelImageBytes = 0,
            PcpBatch = pcpBatch,
            PcpHigh = pcpHigh,
        });

    public long Count(FrameOwner owner) => Frames.CountByOwner()[(int)owner];

    /// <summary>A random request for the seeded sequences: orders 0–10 (mostly small, a pageblock
    /// and larger ones among them), mapped, movable or unmapped.</summary>
    public static (int Order, AllocFlags Flags) RandomRequest(Random rng)
    {
        int order = rng.Next(8) switch
        {
            < 4 => 0,
            < 6 => rng.Next(1, 4),
            6 => 9,
            _ => rng.Next(4, 11),
        };
        AllocFlags flags = rng.Next(5) switch
        {
            0 or 1 => AllocFlags.Movable,
            2 when order <= PageAllocator.PageblockOrder => AllocFlags.Unmapped,
            _ => AllocFlags.None,
        };
        return (order, flags);
    }

    /// <summary>Removes a random block from <paramref name="held"/> (the last one takes its place) and returns it.</summary>
    public static (long Pfn, int Order) TakeRandom(List<(long Pfn, int Order)> held, Random rng)
    {
        int i = rng.Next(held.Count);
        (long Pfn, int Order) block = held[i];
        held[i] = held[^1];
        held.RemoveAt(held.Count - 1);
        return block;
    }

    public void AssertInvariants(string context)
    {
        string? violation = Allocator.TestHookFindInvariantViolation();
        Assert.True(violation is null, $"{context}: {violation}");
        Assert.True(DirectMap.Violation is null, $"{context}: {DirectMap.Violation}");
    }

    public void Dispose() => Arena.Dispose();
}

/// <summary>
/// A recording stand-in for the direct map: it remembers which pfns are out of the map, records
/// every hook call in order, can fail the next unmaps, and checks the free-path rule (a page that
/// returns to a mapped list must be present; one that returns to an unmapped list must not be).
/// Thread-safe, for the concurrent tests.
/// </summary>
internal sealed class FakeDirectMap : IPageblockMapper, IFreeCheck
{
    private readonly Lock _lock = new();
    private readonly HashSet<long> _unmapped = [];

    public List<(string Op, int Cpu, long Pfn, long Pages)> Calls { get; } = [];

    public List<(long Pfn, int Order, bool ToUnmapped)> Frees { get; } = [];

    public string? Violation { get; private set; }

    public int FailNextUnmaps { get; set; }

    /// <summary>Runs inside <see cref="Unmap"/>, as a direct-map split that needs a page table would.</summary>
    public Action<int>? DuringUnmap { get; set; }

    public bool IsUnmapped(long pfn)
    {
        lock (_lock)
        {
            return _unmapped.Contains(pfn);
        }
    }

    public int Count(string op)
    {
        lock (_lock)
        {
            return Calls.Count(c => c.Op == op);
        }
    }

    public int Unmap(int cpu, long startPfn, long pages)
    {
        DuringUnmap?.Invoke(cpu);
        lock (_lock)
        {
            Calls.Add(("Unmap", cpu, startPfn, pages));
            if (FailNextUnmaps > 0)
            {
                FailNextUnmaps--;
                return Errno.ENOMEM;
            }

            for (long p = startPfn; p < startPfn + pages; p++)
            {
                if (!_unmapped.Add(p))
                {
                    Violation ??= $"pfn {p} unmapped twice";
                }
            }

            return 0;
        }
    }

    public void FlushRange(int cpu, long startPfn, long pages)
    {
        lock (_lock)
        {
            Calls.Add(("Flush", cpu, startPfn, pages));
        }
    }

    public int Remap(int cpu, long startPfn, long pages)
    {
        lock (_lock)
        {
            Calls.Add(("Remap", cpu, startPfn, pages));
            for (long p = startPfn; p < startPfn + pages; p++)
            {
                if (!_unmapped.Remove(p))
                {
                    Violation ??= $"pfn {p} re-mapped while present";
                }
            }

            return 0;
        }
    }

    public void OnFree(int cpu, long pfn, int order, bool toUnmappedList)
    {
        lock (_lock)
        {
            Frees.Add((pfn, order, toUnmappedList));
            for (long p = pfn; p < pfn + (1L << order); p++)
            {
                if (_unmapped.Contains(p) != toUnmappedList)
                {
                    Violation ??= $"pfn {p} freed to the {(toUnmappedList ? "unmapped" : "mapped")} lists while {(toUnmappedList ? "present" : "out of the direct map")}";
                }
            }
        }
    }
}
