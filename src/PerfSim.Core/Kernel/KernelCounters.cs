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

    /// <summary>Adds <paramref name="c"/>'s counts to these.</summary>
    public void Add(in KernelCounters c)
    {
        Faults += c.Faults;
        UserFaults += c.UserFaults;
        PopulatedPages += c.PopulatedPages;
        DirectMapZaps += c.DirectMapZaps;
        DirectMapRestores += c.DirectMapRestores;
        ZappedPages += c.ZappedPages;
        ZeroedPages += c.ZeroedPages;
        CopiedPages += c.CopiedPages;
        EexistRetries += c.EexistRetries;
        EexistRestores += c.EexistRestores;
        WriteRefused += c.WriteRefused;
        PopulateRefused += c.PopulateRefused;
        GupRefused += c.GupRefused;
        MlockSkipped += c.MlockSkipped;
        MermapGets += c.MermapGets;
        MermapFallbacks += c.MermapFallbacks;
        MermapLocalFlushes += c.MermapLocalFlushes;
        MermapFreeFlushes += c.MermapFreeFlushes;
        FoliosFreed += c.FoliosFreed;
        LeakedFrames += c.LeakedFrames;
        DirectMapAccesses += c.DirectMapAccesses;
        StaleAccesses += c.StaleAccesses;
        CpaLockWaitNs += c.CpaLockWaitNs;
        MadviseDontneed += c.MadviseDontneed;
    }
}
