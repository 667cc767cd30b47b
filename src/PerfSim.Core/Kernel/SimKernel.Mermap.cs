using PerfSim.Core.Events;
using PerfSim.Core.Flush;

namespace PerfSim.Core.Kernel;

/// <summary>The scope of the mermap's flush before free.</summary>
public sealed partial class SimKernel
{
    /// <summary>
    /// The full flush of an mm's mermap region that must precede freeing pages mapped there
    /// (mm/mermap.c: "The caller must also perform a full TLB flush of the region before freeing
    /// the pages"). The region lives in the mm-local region: its PTEs are non-global
    /// (<c>arch_mermap_pgprot_allowed</c> refuses <c>_PAGE_GLOBAL</c>) and in this mm's page tables,
    /// so only CPUs that ran the mm can hold them, and a flush of them leaves the global direct-map
    /// entries alone. PerfSim flushes the CPUs whose slice mapped frames since its last flush
    /// (the only ones that may translate them): on x86 one IPI round to those other than the
    /// caller (a <c>flush_tlb_mm_range</c>-style multicast, priced by the flush model's broadcast
    /// to that many targets, its wait the nominal one: targets in the host, queues empty), on arm64
    /// one broadcast TLBI by ASID. The direct-map TLB entries are not touched. Not yet through the
    /// call queue (<see cref="Timeline.HostCpus"/> sends to every other CPU, and a logged call
    /// carries no cpumask): the targets' handler time is not charged and the IPIs are not in
    /// <c>ipis</c> (docs/tlb-flush-costs.md, "Known gaps").
    /// </summary>
    private void FlushMermapRegion(int cpu, Mermap.Mermap mermap)
    {
        int remote = 0;
        for (int c = 0; c < CpuCount; c++)
        {
            remote += c != cpu && mermap.HasUnflushed(c) ? 1 : 0;
        }

        if (remote > 0)
        {
            RequireSerial("a mermap flush on other CPUs");
        }

        for (int c = 0; c < CpuCount; c++)
        {
            if (mermap.HasUnflushed(c))
            {
                mermap.FlushLocal(c);
            }
        }

        IFlushModel model = Flush.Arch.Flush;
        bool arm64 = DirectMap.Profile.IsArm64;
        FlushCost cost = remote > 0 || arm64
            ? model.Broadcast([], 0, full: true, arm64 ? CpuCount - 1 : remote, Costs)
            : model.Local(0, full: true, Costs);
        Charge(cpu, cost.LatencyNs + cost.NominalWaitNs);
        CountersOf(cpu).MermapFreeFlushes++;
        Trace(cpu, SimEventKind.FlushLocal, 0, cost.IpiCallbacks);
    }
}
