namespace PerfSim.Core.PageTables;

/// <summary>
/// The bits of one direct-map entry (PUD, PMD or PTE), one byte per entry.
/// </summary>
/// <remarks>
/// <para>x86-64 (arch/x86/include/asm/pgtable_types.h): <see cref="Present"/> = _PAGE_PRESENT,
/// <see cref="Rw"/> = _PAGE_RW, <see cref="Dirty"/> = _PAGE_DIRTY, <see cref="Global"/> =
/// _PAGE_GLOBAL, <see cref="Nx"/> = _PAGE_NX. The direct map boots as PAGE_KERNEL
/// (present, RW, dirty, global, NX).</para>
/// <para>arm64 reuses the byte: <see cref="Present"/> = PTE_VALID, <see cref="Rw"/> = PTE_WRITE,
/// <see cref="Cont"/> = PTE_CONT (a contiguous group of 16 entries).</para>
/// <para>Structure bits: <see cref="Leaf"/> marks an entry that maps memory (a PTE, or a PMD/PUD
/// with _PAGE_PSE / a section); <see cref="Table"/> marks one that points to the next level. An
/// all-zero entry is pte_none: a hole.</para>
/// </remarks>
[Flags]
public enum PteFlags : byte
{
    None = 0,
    Present = 1 << 0,
    Rw = 1 << 1,
    Dirty = 1 << 2,
    Global = 1 << 3,
    Nx = 1 << 4,
    Leaf = 1 << 5,
    Table = 1 << 6,
    Cont = 1 << 7,

    /// <summary>The protection bits (what a CPA request changes and compares). All of them are
    /// set in x86 PAGE_KERNEL, the direct map's protection at boot.</summary>
    ProtMask = Present | Rw | Dirty | Global | Nx,}
