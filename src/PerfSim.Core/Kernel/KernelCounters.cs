using System.Runtime.InteropServices;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Kernel;

/// <summary>What the kernel paths did, per CPU (one cache line pair each, summed at the end).</summary>
[StructLayout(LayoutKind.Sequential, Size = 2 * NativeArena.CacheLine)]
public struct KernelCounters
{
    public long Faults;
    public long UserFaults;
    public long PopulatedPages;
    public long DirectMapZaps;
    public long DirectMapRestores;
    public long ZappedPages;
    public long ZeroedPages;
    public long CopiedPages;
    public long EexistRetries;

    /// <summary>Zaps undone because the insert they preceded lost to another (-EEXIST): secretmem
    /// and the filemap design zap before inserting.</summary>
    public long EexistRestores;
    public long WriteRefused;
    public long PopulateRefused;
    public long GupRefused;
    public long MlockSkipped;
    public long MermapGets;
    public long MermapFallbacks;
    public long MermapLocalFlushes;
    public long MermapFreeFlushes;
    public long FoliosFreed;
    public long LeakedFrames;
    public long DirectMapAccesses;
    public long StaleAccesses;
    public long CpaLockWaitNs;

    /// <summary><c>madvise(MADV_DONTNEED)</c> calls (the tlb-flush2 loop).</summary>
    public long MadviseDontneed;

    public static KernelCounters Sum(ReadOnlySpan<KernelCounters> all)
    {
        var s = default(KernelCounters);
        foreach (ref readonly KernelCounters c in all)
        {
            s.Faults += c.Faults;
            s.UserFaults += c.UserFaults;
            s.PopulatedPages += c.PopulatedPages;
            s.DirectMapZaps += c.DirectMapZaps;
            s.DirectMapRestores += c.DirectMapRestores;
            s.ZappedPages += c.ZappedPages;
            s.ZeroedPages += c.ZeroedPages;
            s.CopiedPages += c.CopiedPages;
            s.EexistRetries += c.EexistRetries;
            s.EexistRestores += c.EexistRestores;
            s.WriteRefused += c.WriteRefused;
            s.PopulateRefused += c.PopulateRefused;
            s.GupRefused += c.GupRefused;
            s.MlockSkipped += c.MlockSkipped;
            s.MermapGets += c.MermapGets;
            s.MermapFallbacks += c.MermapFallbacks;
            s.MermapLocalFlushes += c.MermapLocalFlushes;
            s.MermapFreeFlushes += c.MermapFreeFlushes;
            s.FoliosFreed += c.FoliosFreed;
            s.LeakedFrames += c.LeakedFrames;
            s.DirectMapAccesses += c.DirectMapAccesses;
            s.StaleAccesses += c.StaleAccesses;
            s.CpaLockWaitNs += c.CpaLockWaitNs;
            s.MadviseDontneed += c.MadviseDontneed;
        }

        return s;
    }
}
