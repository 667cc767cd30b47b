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
/// </summary>
public struct SimRwLock
{
    public long WriterFreeAtNs;
    public long ReadersFreeAtNs;

    /// <summary>A shared hold starting at <paramref name="clock"/>: returns when it is granted.</summary>
    public readonly long ReadGrant(long clock) => Math.Max(clock, WriterFreeAtNs);

    /// <summary>The shared hold granted earlier ends at <paramref name="endNs"/>.
    /// Atomic: readers on several host threads release at once, and a max does not depend on their order.</summary>
    public void ReadRelease(long endNs)
    {
        long seen = Volatile.Read(ref ReadersFreeAtNs);
        while (endNs > seen)
        {
            long was = Interlocked.CompareExchange(ref ReadersFreeAtNs, endNs, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    /// <summary>An exclusive hold starting at <paramref name="clock"/>: returns when it is granted.</summary>
    public readonly long WriteGrant(long clock) => Math.Max(clock, Math.Max(WriterFreeAtNs, ReadersFreeAtNs));

    public void WriteRelease(long endNs) => WriterFreeAtNs = Math.Max(WriterFreeAtNs, endNs);
}

/// <summary>An open secretmem or guest_memfd file: its page-cache mapping and its locks.</summary>
public sealed class KernelFile
{
    internal KernelFile(FileKind kind, ushort mapping, long sizePages, GmemFlags flags, int folioOrder, KernelProcess process)
    {
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

    public bool Released { get; internal set; }

    /// <summary>The mapping's xarray lock (<c>i_pages</c>), held for an insert or removal.</summary>
    internal SimLock PagesLock;

    /// <summary><c>filemap_invalidate_lock</c>: shared by faults, exclusive for PUNCH_HOLE.</summary>
    internal SimRwLock InvalidateLock;

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
