namespace PerfSim.Core.PageTables;

/// <summary>The TLB flushes the direct-map code itself issues. The flush engine implements it.</summary>
public interface IDirectMapFlush
{
    /// <summary><c>flush_tlb_all()</c>: done by an x86 split under pgd_lock, before the attribute
    /// change (mixed-size translations with different attributes are undefined).</summary>
    void FlushTlbAll(int cpu);

    /// <summary><c>flush_tlb_kernel_range()</c>: done inside arm64 <c>set_memory_valid(.., 0)</c>,
    /// i.e. <c>set_direct_map_valid_noflush(.., false)</c> despite its name.</summary>
    void FlushKernelRange(int cpu, long startPfn, long pages);
}

/// <summary>Counts flushes and does nothing else: for hosts without a TLB model (the
/// <c>directmap</c> command, unit tests).</summary>
public sealed class CountingDirectMapFlush : IDirectMapFlush
{
    public long GlobalFlushes { get; private set; }

    public long RangeFlushes { get; private set; }

    public long RangeFlushPages { get; private set; }

    public void FlushTlbAll(int cpu) => GlobalFlushes++;

    public void FlushKernelRange(int cpu, long startPfn, long pages)
    {
        RangeFlushes++;
        RangeFlushPages += pages;
    }
}
