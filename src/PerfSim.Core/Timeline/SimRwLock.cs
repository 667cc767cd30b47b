namespace PerfSim.Core.Timeline;

/// <summary>
/// A reader/writer lock in simulated time (<c>filemap_invalidate_lock</c>): readers do not wait for
/// readers; a writer waits for every reader and writer before it; readers wait for writers.
/// Each CPU keeps its readers' release time on its own cache line: every fault releases the lock,
/// on whichever host thread runs its CPU, and one shared word updated by atomic max made those
/// threads take turns on it. A writer (hole punch, inode eviction: serial steps) takes the max.
/// </summary>
public sealed class SimRwLock(int cpus)
{
    private const int Stride = 8;
    private readonly long[] _readersFreeAtNs = new long[Math.Max(1, cpus) * Stride];

    public long WriterFreeAtNs { get; private set; }

    /// <summary>When the last reader's hold ends, on any CPU.</summary>
    public long ReadersFreeAtNs
    {
        get
        {
            long latest = 0;
            for (int i = 0; i < _readersFreeAtNs.Length; i += Stride)
            {
                latest = Math.Max(latest, _readersFreeAtNs[i]);
            }

            return latest;
        }
    }

    /// <summary>A shared hold starting at <paramref name="clock"/>: returns when it is granted.</summary>
    public long ReadGrant(long clock) => Math.Max(clock, WriterFreeAtNs);

    /// <summary>The shared hold <paramref name="cpu"/> was granted ends at <paramref name="endNs"/>.</summary>
    public void ReadRelease(int cpu, long endNs)
    {
        ref long released = ref _readersFreeAtNs[cpu * Stride];
        released = Math.Max(released, endNs);
    }

    /// <summary>An exclusive hold starting at <paramref name="clock"/>: returns when it is granted.</summary>
    public long WriteGrant(long clock) => Math.Max(clock, Math.Max(WriterFreeAtNs, ReadersFreeAtNs));

    public void WriteRelease(long endNs) => WriterFreeAtNs = Math.Max(WriterFreeAtNs, endNs);
}
