using PerfSim.Core.PageCache;
using PerfSim.Core.Timeline;

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

    /// <summary>The VM the guest_memfd belongs to (<see cref="VmType.Default"/> for secretmem).</summary>
    public VmType Vm { get; init; }

    public bool Released { get; internal set; }

    /// <summary><c>filemap_invalidate_lock</c>: shared by <c>secretmem_fault</c>, exclusive for
    /// PUNCH_HOLE and <c>kvm_gmem_populate</c>; guest_memfd's faults do not take it (6.18,
    /// virt/kvm/guest_memfd.c).</summary>
    internal SimRwLock InvalidateLock { get; init; } = null!;

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

    /// <summary><c>mm_cpumask(mm)</c>: the CPUs a thread of this mm runs on (set by
    /// <c>switch_mm_irqs_off</c>; every one keeps the mm loaded, none is lazy), as a
    /// <see cref="Timeline.HostCpus.MaskId"/>; 0 until a thread runs.</summary>
    public int CpuMaskId { get; internal set; }

    /// <summary>How many CPUs <see cref="CpuMaskId"/> holds.</summary>
    public int ActiveCpus => CpuSet.Count;

    /// <summary>The CPUs of the KVM vCPU threads of the VM this process runs (a subset of
    /// <see cref="CpuMaskId"/>), as a mask id; 0 when it runs none.</summary>
    public int VcpuMaskId { get; internal set; }

    /// <summary>How many CPUs <see cref="VcpuMaskId"/> holds.</summary>
    public int VcpuCpus => VcpuSet.Count;

    internal SortedSet<int> CpuSet { get; } = [];
    internal SortedSet<int> VcpuSet { get; } = [];
}
