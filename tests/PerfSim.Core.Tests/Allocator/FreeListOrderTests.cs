using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;

namespace PerfSim.Core.Tests.Allocator;

/// <summary>
/// The free-list links moved from an allocator array into the free frames' records (issue 19
/// item 5); the lists must hand out pages in exactly the order they did. Seeded random sequences of
/// allocations (orders 0–10, mapped, movable and unmapped), frees and drains on four CPUs over all
/// three zones are fingerprinted: every pfn handed out, and at checkpoints every frame's view
/// (owner, flags, mapping, index: the forward links of the free lists show there, as the run
/// digest hashes them). The expected fingerprints were produced by this same test on the
/// allocator before the change (8c4099d, links in a separate array), the behaviour it must keep.
/// </summary>
public sealed class FreeListOrderTests
{
    [Theory]
    [InlineData(1, 0xE04FE389AA8E5B48UL)]
    [InlineData(2, 0x420E3E528F4F8C91UL)]
    [InlineData(3, 0x9C98AF19E632DD7CUL)]
    public void Random_sequences_hand_out_the_same_pages_as_before(int seed, ulong expected)
    {
        ulong fingerprint = Run(seed);

        Assert.True(expected == fingerprint, $"seed {seed}: fingerprint 0x{fingerprint:X16}, before the change 0x{expected:X16}");
    }

    private static ulong Run(int seed)
    {
        // 4 GiB + 64 MiB from 0: DMA, DMA32 and a small Normal zone, so zone fallback happens too.
        using var host = new AllocatorHost(MemoryLayout.FromSize(4 * PageGeometry.GiB + 64 * PageGeometry.MiB), new AllocatorOptions { CpuCount = 4 });
        PageAllocator allocator = host.Allocator;
        var rng = new Random(seed);
        var held = new List<(int Cpu, long Pfn, int Order)>();
        ulong hash = 14695981039346656037UL;
        for (int step = 0; step < 40_000; step++)
        {
            int cpu = rng.Next(4);
            int op = rng.Next(100);
            if (op < 55 || held.Count == 0)
            {
                int order = rng.Next(10) switch
                {
                    < 6 => 0,
                    < 8 => rng.Next(1, 4),
                    8 => 9,
                    _ => rng.Next(4, 11),
                };
                AllocFlags flags = rng.Next(6) switch
                {
                    0 or 1 => AllocFlags.Movable,
                    2 when order <= PageAllocator.PageblockOrder => AllocFlags.Unmapped,
                    _ => AllocFlags.None,
                };
                bool ok = allocator.TryAllocatePages(cpu, order, flags, out long pfn);
                hash = Mix(hash, ok ? (ulong)pfn : ulong.MaxValue);
                if (ok)
                {
                    held.Add((cpu, pfn, order));
                }
            }
            else if (op < 98)
            {
                int i = rng.Next(held.Count);
                (int owner, long pfn, int order) = held[i];
                held[i] = held[^1];
                held.RemoveAt(held.Count - 1);
                allocator.FreePages(rng.Next(3) == 0 ? cpu : owner, pfn, order);
            }
            else
            {
                allocator.DrainLocalPages(cpu);
            }

            if (step % 5000 == 4999)
            {
                host.AssertInvariants($"seed {seed} step {step}");
                hash = Mix(hash, FrameView(host.Frames));
            }
        }

        return hash;
    }

    private static ulong FrameView(FrameTable frames)
    {
        ulong hash = 0;
        for (long pfn = 0; pfn < frames.EndPfn; pfn++)
        {
            Frame f = frames[pfn];
            ulong packed = ((ulong)f.Owner << 56) ^ ((ulong)f.Flags << 48) ^ ((ulong)f.MappingId << 32) ^ f.Index;
            hash += Mix((ulong)pfn, packed);
        }

        return hash;
    }

    private static ulong Mix(ulong hash, ulong value)
    {
        hash ^= value;
        hash *= 1099511628211UL;
        return hash ^ (hash >> 29);
    }
}
