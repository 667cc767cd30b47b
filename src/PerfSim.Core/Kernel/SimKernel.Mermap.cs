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
    /// (the only ones that may translate them): a user-mm flush of the whole region
    /// (<see cref="FlushEngine.FlushMmRange"/>) to that cpumask, on x86 a call-queue round to
    /// those other than the caller (their handlers, VM exits and wake-ups priced by
    /// <see cref="Timeline.HostCpus"/>, the IPIs counted in <c>ipis</c>), on arm64 one broadcast
    /// TLBI by ASID. The direct-map TLB entries are not touched.
    /// </summary>
    private void FlushMermapRegion(int cpu, Mermap.Mermap mermap)
    {
        Span<int> mapped = CpuCount <= 256 ? stackalloc int[CpuCount] : new int[CpuCount];
        int count = 0;
        int remote = 0;
        for (int c = 0; c < CpuCount; c++)
        {
            if (mermap.HasUnflushed(c))
            {
                mapped[count++] = c;
                remote += c != cpu ? 1 : 0;
            }
        }

        if (remote > 0)
        {
            RequireSerial("a mermap flush on other CPUs");
        }

        for (int i = 0; i < count; i++)
        {
            mermap.FlushLocal(mapped[i]);
        }

        bool arm64 = DirectMap.Profile.IsArm64;
        int mask = remote > 0 && !arm64 ? Host.MaskId(mapped[..count]) : Timeline.HostCpus.AllOthers;
        FlushOutcome o = Flush.FlushMmRange(cpu, FlushEngine.WholeMm, arm64 ? 0 : remote, broadcast: arm64);
        o = CrossCall(cpu, o, mask);
        Charge(cpu, o.InitiatorLatencyNs);
        CountersOf(cpu).MermapFreeFlushes++;
        Trace(cpu, SimEventKind.FlushLocal, 0, o.IpiCallbacks);
    }
}
