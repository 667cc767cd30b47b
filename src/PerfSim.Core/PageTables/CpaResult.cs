namespace PerfSim.Core.PageTables;

/// <summary>
/// What one direct-map primitive call did: the engine turns these counts into simulated time and
/// lock hold times (one <c>cpa_lock</c> round per <see cref="LockRounds"/>, PTE writes under it,
/// a page-table allocation and a global flush under <c>pgd_lock</c> per split).
/// </summary>
public struct CpaResult
{
    /// <summary>0 or a negative errno (only -ENOMEM on x86: a split's page-table allocation failed).</summary>
    public int Error;

    /// <summary>Calls of <c>__change_page_attr()</c>, each under <c>cpa_lock</c>.</summary>
    public int LockRounds;

    /// <summary>Entries rewritten (4K PTEs, or large leaves updated in place).</summary>
    public int EntryWrites;

    /// <summary>1G→2M splits (x86 <c>direct_map_level3_splits</c>; arm64 PUD block → PMD table).</summary>
    public int Splits1G;

    /// <summary>2M→4K splits (x86 <c>direct_map_level2_splits</c>; arm64 PMD block → PTE table).</summary>
    public int Splits2M;

    /// <summary>arm64 contiguous groups broken (CONT_PMD or CONT_PTE), which need no allocation.</summary>
    public int ContBreaks;

    /// <summary>Large leaves kept because the request did not change them ("sameprot").</summary>
    public int SameProt;

    /// <summary>Large leaves updated in place because the request covered them exactly ("preserved").</summary>
    public int Preserved;

    /// <summary>Pages skipped because no entry maps them (holes are silent successes).</summary>
    public long HolePages;

    /// <summary>Global flushes done inside the call (x86 splits).</summary>
    public int GlobalFlushes;

    /// <summary>Ranged flushes done inside the call (arm64 <c>set_memory_valid(.., 0)</c>).</summary>
    public int RangeFlushes;

    public readonly int Splits => Splits1G + Splits2M;

    public readonly bool Failed => Error != 0;
}
