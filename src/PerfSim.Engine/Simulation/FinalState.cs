using PerfSim.Core.Frames;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// One pass over every frame at the end of a run, in parallel slices: frames per owner (the
/// conservation check), frames left out of the direct map by nobody's design (leaks), and an
/// order-independent hash of every frame's final state for the digest. Sums commute, so the result
/// is the same for any number of threads.
/// </summary>
internal sealed record FinalState(long[] FramesByOwner, long LeakedUnmappedFrames, ulong FrameHash)
{
    public static FinalState Scan(SimKernel k, int threads)
    {
        long end = k.Frames.EndPfn;
        int slices = (int)Math.Clamp(end / 65536, 1, 64);
        int owners = Enum.GetValues<FrameOwner>().Length;
        var partial = new (long[] Owners, long Leaked, ulong Hash)[slices];
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, s =>
        {
            long[] byOwner = new long[owners];
            long leaked = 0;
            ulong hash = 0;
            for (long pfn = end * s / slices, to = end * (s + 1) / slices; pfn < to; pfn++)
            {
                Frame f = k.Frames.Read(pfn);
                DirectMapEntry entry = k.DirectMap.Lookup(pfn);
                byOwner[(int)f.Owner]++;
                if (f.Owner == FrameOwner.Leaked
                    || (f.Owner == FrameOwner.Free && !entry.IsPresent && !k.Allocator.IsPageblockUnmapped(pfn)))
                {
                    leaked++;
                }

                ulong packed = ((ulong)f.Owner << 56) ^ ((ulong)f.Flags << 48) ^ ((ulong)f.MappingId << 32) ^ f.Index;
                hash += Digest.Mix(Digest.Mix((ulong)pfn) ^ packed ^ ((ulong)entry.Flags << 40) ^ ((ulong)entry.Level << 38));
            }

            partial[s] = (byOwner, leaked, hash);
        });

        long[] total = new long[owners];
        long leakedTotal = 0;
        ulong hashTotal = 0;
        foreach ((long[] o, long leaked, ulong hash) in partial)
        {
            for (int i = 0; i < owners; i++)
            {
                total[i] += o[i];
            }

            leakedTotal += leaked;
            hashTotal += hash;
        }

        return new FinalState(total, leakedTotal, hashTotal);
    }

    public IEnumerable<KeyValuePair<string, long>> OwnerCounters(long ramPages)
    {
        yield return new("frames_free", FramesByOwner[(int)FrameOwner.Free]);
        yield return new("frames_page_cache", FramesByOwner[(int)FrameOwner.PageCache]);
        yield return new("frames_page_table", FramesByOwner[(int)FrameOwner.PageTable]);
        yield return new("frames_allocated", FramesByOwner[(int)FrameOwner.Allocated]);
        yield return new("frames_reserved", FramesByOwner[(int)FrameOwner.Reserved]);
        yield return new("frames_leaked", FramesByOwner[(int)FrameOwner.Leaked]);
        yield return new("frames_ram", ramPages);
    }
}
