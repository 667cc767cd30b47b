using System.Diagnostics;
using PerfSim.Core;
using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// One pass over every frame at the end of a run, in parallel slices of chunks: frames per owner
/// (the conservation check), frames left out of the direct map by nobody's design (leaks), and an
/// order-independent hash of every frame's final state for the digest. Sums commute, so the result
/// is the same for any number of threads, and a chunk the run never touched may be summed a
/// region at a time.
/// </summary>
internal sealed record FinalState(long[] FramesByOwner, long LeakedUnmappedFrames, ulong FrameHash)
{
    public static FinalState Scan(SimKernel k, int threads)
    {
        long end = k.Frames.EndPfn;
        long chunks = (end + FrameTable.ChunkFrames - 1) / FrameTable.ChunkFrames;
        int slices = (int)Math.Clamp(chunks / 64, 1, 64);
        int owners = Enum.GetValues<FrameOwner>().Length;
        var partial = new Tally[slices];
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, s =>
        {
            var tally = new Tally(new long[owners]);
            for (long c = chunks * s / slices, to = chunks * (s + 1) / slices; c < to; c++)
            {
                long pfn = c * FrameTable.ChunkFrames;
                long chunkEnd = Math.Min(end, pfn + FrameTable.ChunkFrames);
                if (chunkEnd - pfn == FrameTable.ChunkFrames && k.Frames.TryReadUntouched(pfn, out Frame tail))
                {
                    ScanUntouchedChunk(k, pfn, tail, ref tally);
                }
                else
                {
                    ScanFrames(k, pfn, chunkEnd, ref tally);
                }
            }

            partial[s] = tally;
        });

        long[] total = new long[owners];
        long leakedTotal = 0;
        ulong hashTotal = 0;
        foreach (Tally t in partial)
        {
            for (int i = 0; i < total.Length; i++)
            {
                total[i] += t.Owners[i];
            }

            leakedTotal += t.Leaked;
            hashTotal += t.Hash;
        }

        return new FinalState(total, leakedTotal, hashTotal);
    }

    /// <summary>Frame by frame: [<paramref name="start"/>, <paramref name="end"/>).</summary>
    private static void ScanFrames(SimKernel k, long start, long end, ref Tally tally)
    {
        for (long pfn = start; pfn < end; pfn++)
        {
            Frame f = k.Frames.Read(pfn);
            DirectMapEntry entry = k.DirectMap.Lookup(pfn);
            tally.Owners[(int)f.Owner]++;
            if (IsLeaked(k, f, entry, pfn))
            {
                tally.Leaked++;
            }

            tally.Hash += Digest.Mix(Digest.Mix((ulong)pfn) ^ Salt(f, entry));
        }
    }

    /// <summary>A chunk that reads as boot left it: its first two frames one by one (a boot
    /// block's head and order mark), the rest a 2 MiB region at a time where one direct-map leaf
    /// maps the region (every frame then hashes with the same salt), else frame by frame. The
    /// same counts and sum as <see cref="ScanFrames"/> over the chunk. A 1 GiB guest on 4 TiB left
    /// ~99.9% of the chunks untouched, and reading them frame by frame was ~90% of the whole
    /// command's time (docs/limits.md, "Memory").</summary>
    private static void ScanUntouchedChunk(SimKernel k, long chunk, Frame tail, ref Tally tally)
    {
        ScanFrames(k, chunk, chunk + 2, ref tally);
        for (long region = chunk; region < chunk + FrameTable.ChunkFrames; region += PageGeometry.PagesPer2M)
        {
            long from = Math.Max(region, chunk + 2);
            long to = region + PageGeometry.PagesPer2M;
            if (!k.DirectMap.TryLookupRegion(region, out DirectMapEntry entry))
            {
                ScanFrames(k, from, to, ref tally);
                continue;
            }

            // A region is one pageblock, so one IsPageblockUnmapped answers for all its frames.
            Debug.Assert(PageAllocator.PageblockPages == PageGeometry.PagesPer2M, "a 2 MiB region is one pageblock");
            long frames = to - from;
            tally.Owners[(int)tail.Owner] += frames;
            if (IsLeaked(k, tail, entry, from))
            {
                tally.Leaked += frames;
            }

            tally.Hash += Digest.MixSum(from, frames, Salt(tail, entry));
        }
    }

    /// <summary>Left out of the direct map by nobody's design: a leaked frame, or a free one
    /// unmapped outside an unmapped pageblock.</summary>
    private static bool IsLeaked(SimKernel k, Frame f, DirectMapEntry entry, long pfn) =>
        f.Owner == FrameOwner.Leaked
        || (f.Owner == FrameOwner.Free && !entry.IsPresent && !k.Allocator.IsPageblockUnmapped(pfn));

    /// <summary>What a frame's hash mixes with its pfn: its record and its direct-map entry.</summary>
    private static ulong Salt(Frame f, DirectMapEntry entry) =>
        ((ulong)f.Owner << 56) ^ ((ulong)f.Flags << 48) ^ ((ulong)f.MappingId << 32) ^ f.Index
        ^ ((ulong)entry.Flags << 40) ^ ((ulong)entry.Level << 38);

    /// <summary>One slice's frames per owner, leaked frames and hash.</summary>
    private struct Tally(long[] owners)
    {
        public readonly long[] Owners = owners;
        public long Leaked;
        public ulong Hash;
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
