using PerfSim.Core.Allocator;
using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;
using PerfSim.Core.Tlb;
using FlushCounters = PerfSim.Core.Flush.FlushCounters;

namespace PerfSim.Engine.Simulation;

/// <summary>The run's counters, named as report.json names them (kernel names where the kernel
/// has one). The first sixteen are the report's required keys.</summary>
internal static class Counters
{
    public static List<KeyValuePair<string, long>> Take(SimKernel k)
    {
        KernelCounters c = k.TotalCounters();
        FlushCounters f = k.Flush.TotalCounters();
        TlbCpuCounters t = k.Tlb.TotalCounters();
        AllocatorCounters a = k.Allocator.GetCounters();
        CpuCallCounters calls = k.Host.TotalCounters();
        return
        [
            new("faults", c.Faults + c.UserFaults),
            new("dm_zaps", c.DirectMapZaps),
            new("dm_restores", c.DirectMapRestores),
            new("direct_map_level2_splits", k.DirectMap.Level2Splits),
            new("direct_map_level3_splits", k.DirectMap.Level3Splits),
            new("pt_pages", k.DirectMap.PageTablePages),
            new("flush_kernel_range", f.KernelRangeFlushes),
            new("flush_all", f.FlushAlls),
            new("ipis", calls.IpisSent),
            new("invlpg", f.Invlpg),
            new("tlb_misses", t.Misses),
            new("stale_tlb_accesses", t.StaleHits),
            new("mermap_gets", c.MermapGets),
            new("mermap_local_flushes", c.MermapLocalFlushes),
            new("oops", k.Checker.Count(ViolationKind.Oops)),
            new("leaked_unmapped_frames", c.LeakedFrames),
            new("guest_faults", c.Faults),
            new("user_faults", c.UserFaults),
            new("populated_pages", c.PopulatedPages),
            new("zapped_pages", c.ZappedPages),
            new("zeroed_pages", c.ZeroedPages),
            new("copied_pages", c.CopiedPages),
            new("eexist_retries", c.EexistRetries),
            new("write_refused", c.WriteRefused),
            new("populate_refused", c.PopulateRefused),
            new("gup_refused", c.GupRefused),
            new("mermap_fallbacks", c.MermapFallbacks),
            new("mermap_free_flushes", c.MermapFreeFlushes),
            new("folios_freed", c.FoliosFreed),
            new("cpa_lock_acquisitions", k.CpaLock.Acquisitions),
            new("cpa_lock_contended", k.CpaLock.Contended),
            new("cpa_lock_wait_ns", k.CpaLock.WaitNs),
            new("full_flushes", f.FullFlushes),
            new("local_flushes", f.LocalFlushes),
            new("tlbi_ops", f.TlbiOps),
            new("invlpgb_ops", f.InvlpgbOps),
            new("tlb_hits", t.Hits),
            new("pcp_refills", a.PcpRefills),
            new("pageblock_flips", a.PageblockFlips),
            new("pageblock_remaps", a.PageblockRemaps),
            new("ipi_callbacks", f.IpiCallbacks),
            new("ipi_vm_exits", calls.VmExits),
            new("ipi_wakeups_poll", calls.WakeupsPoll),
            new("ipi_wakeups_c1", calls.WakeupsC1),
            new("ipi_wakeups_c1e", calls.WakeupsC1E),
            new("ipi_wakeups_c6", calls.WakeupsC6),
            new("latent_crashes", k.Checker.Count(ViolationKind.LatentCrash)),
            new("stale_translations", k.Checker.Count(ViolationKind.StaleTranslation)),
            new("mermap_stale_frees", k.Checker.Count(ViolationKind.MermapStaleFree)),
            new("cont_breaks", k.DirectMap.ContBreaks),
            new("flush_tlb_mm_range", f.MmRangeFlushes),
            new("madvise_dontneed", c.MadviseDontneed),
        ];
    }

    public static Dictionary<string, long> Delta(IReadOnlyList<KeyValuePair<string, long>> before, IReadOnlyList<KeyValuePair<string, long>> after)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < after.Count; i++)
        {
            delta[after[i].Key] = after[i].Value - before[i].Value;
        }

        return delta;
    }
}
