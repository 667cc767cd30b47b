using PerfSim.Core.PageCache;

namespace PerfSim.Core.Kernel;

/// <summary>What a file is.</summary>
public enum FileKind : byte
{
    Secretmem,
    GuestMemfd,
}

/// <summary>guest_memfd creation flags (v11+ values: MMAP 1&lt;&lt;0, INIT_SHARED 1&lt;&lt;1, NO_DIRECT_MAP 1&lt;&lt;2).</summary>
[Flags]
public enum GmemFlags : byte
{
    None = 0,
    Mmap = 1 << 0,
    InitShared = 1 << 1,
    NoDirectMap = 1 << 2,
}

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

/// <summary>An open secretmem or guest_memfd file: its page-cache mapping and its locks.</summary>
public sealed class KernelFile
{
    internal KernelFile(FileKind kind, ushort mapping, long sizePages, GmemFlags flags, int folioOrder, KernelProcess process, Design design)
    {
        Design = design;
        Kind = kind;
        Mapping = mapping;
        SizePages = sizePages;
        Flags = flags;
        FolioOrder = folioOrder;
        Process = process;
    }

    public FileKind Kind { get; }

    public ushort Mapping { get; }

    public long SizePages { get; }

    public GmemFlags Flags { get; }

    public int FolioOrder { get; }

    public KernelProcess Process { get; }

    /// <summary>AS_NO_DIRECT_MAP: set for secretmem and for guest_memfd with NO_DIRECT_MAP.</summary>
    public bool NoDirectMap => Kind == FileKind.Secretmem || (Flags & GmemFlags.NoDirectMap) != 0;

    /// <summary>What the file's folios go through: the kernel's design for a NO_DIRECT_MAP
    /// guest_memfd, <see cref="Designs.DirectMapKept"/> for any other, <see cref="Designs.Secretmem"/>
    /// for secretmem. The paths read its fields.</summary>
    public Design Design { get; }

    public bool Released { get; internal set; }

    /// <summary><c>filemap_invalidate_lock</c>: shared by faults, exclusive for PUNCH_HOLE.</summary>
    internal SimRwLock InvalidateLock { get; init; } = null!;

    /// <summary>The same lock for host threads, in a thread-safe kernel: a fault and a hole punch
    /// on one file really exclude each other, as they do in the kernel.</summary>
    internal ReaderWriterLockSlim? HostInvalidateLock { get; init; }

    internal AddressSpaceFlags AddressSpaceFlags => (NoDirectMap ? AddressSpaceFlags.NoDirectMap : 0)
        | AddressSpaceFlags.Unevictable
        | (Kind == FileKind.GuestMemfd ? AddressSpaceFlags.Inaccessible | AddressSpaceFlags.Unmovable : 0);
}

/// <summary>A process (an mm): owner of files and of a mermap.</summary>
public sealed class KernelProcess
{
    internal KernelProcess(int id, Mermap.Mermap? mermap)
    {
        Id = id;
        Mermap = mermap;
    }

    public int Id { get; }

    /// <summary>This mm's mermap (mermap_mm_prepare at creation).</summary>
    public Mermap.Mermap? Mermap { get; }
}
