using PerfSim.Core.Arch;

namespace PerfSim.Core.Costs;

/// <summary>
/// Nanoseconds per primitive for one architecture. Simulated time is charged only from these
/// numbers; end-to-end latencies and rates emerge from the model (docs/tlb-flush-costs.md).
/// </summary>
/// <remarks>
/// <para>Defaults are derived from the measured costs in docs/tlb-flush-costs.md; each property names its source. Cycle
/// counts from Hansen 2014 (IvyBridge i5-3320M) are converted at 2.6 GHz, the part's nominal (TSC)
/// frequency, after removing his ~335-cycle tracepoint bias. "ESTIMATE" marks a prior with no
/// measured source: a value to fit, not a fact. docs/tlb-flush-costs.md has the derivations.</para>
/// <para>Each architecture's defaults are its descriptor's (<see cref="ArchDescriptor.Costs"/>,
/// <see cref="Default"/>); a cost-profile file (read in the engine) replaces single
/// <see cref="Fields"/> by their snake_case keys.</para>
/// </remarks>
public sealed record CostProfile
{
    /// <summary>The architecture whose defaults this profile started from.</summary>
    public ArchKind Arch { get; init; }

    /// <summary>One INVLPG of a 4K kernel address. 98 ns: slope of the F1 fit (254 cycles/page at
    /// 2.6 GHz; C12), matching the kernel comment's "about 100 ns" (C2).</summary>
    public long InvlpgNs { get; init; } = 98;

    /// <summary>Fixed overhead of one local flush call (flush info setup, preempt, IRQ-off
    /// bookkeeping). 317 ns: intercept of the F1 fit (825 cycles, C12, bias removed).</summary>
    public long FlushBaseNs { get; init; } = 317;

    /// <summary>One full TLB flush on a CPU (INVPCID all / CR4.PGE toggle), excluding the refill
    /// that follows (the TLB model produces that). 432 ns: F1 "full flush" row 2283 cycles − bias −
    /// base (C12); C6 says full ≈ a single INVLPG plus a few percent, C3 96 cycles for the bare
    /// instruction.</summary>
    public long FullFlushNs { get; init; } = 432;

    /// <summary>Initiator cost of sending the IPIs of one <c>on_each_cpu</c> (ICR writes, csd
    /// queueing). 100 ns: ESTIMATE, part of the 775 ns first-remote increment of C14.</summary>
    public long IpiSendNs { get; init; } = 100;

    /// <summary>IPI delivery latency to the first target. 450 ns: ESTIMATE, part of C14's 775 ns.</summary>
    public long IpiDeliveryNs { get; init; } = 450;

    /// <summary>Fixed handler time on each target (interrupt entry/exit, csd processing), on top
    /// of its INVLPGs or full flush. 225 ns: ESTIMATE; send + delivery + handler = 775 ns = C14.</summary>
    public long IpiHandlerNs { get; init; } = 225;

    /// <summary>Extra initiator wait per target beyond the first. 68 ns: C14 (+135 ns for 2 more
    /// targets, Amit 2019 baseline).</summary>
    public long AckWaitPerExtraTargetNs { get; init; } = 68;

    /// <summary>Each x2APIC ICR write after the first of one IPI round (a WRMSR to the ICR; the
    /// first is in <see cref="IpiSendNs"/>): one per target in physical mode, one per 16-CPU cluster
    /// in cluster mode. 40 ns: ESTIMATE (no published per-write cost found).</summary>
    public long IcrWriteNs { get; init; } = 40;

    /// <summary>A host IPI reaching a CPU in guest mode: the external-interrupt VM exit up to the
    /// host handler (half the hardware world switch plus KVM's exit path). 425 ns: VMRUN→#VMEXIT→VMRUN
    /// ≈ 1,350 cycles and KVM's exit path ≈ 580 cycles (AMD, LKML 2020-12, lkml.iu.edu/hypermail/linux/kernel/2012.2/00527.html;
    /// calibration C36), (1,350 / 2 + 580) cycles at an assumed 3 GHz (ESTIMATE for the clock).</summary>
    public long VmExitNs { get; init; } = 425;

    /// <summary>The VM entry back into the guest after the handler: the other half of the world
    /// switch plus KVM's entry path (≈ 576 cycles in the same message). 417 ns: (675 + 576) cycles
    /// at 3 GHz (ESTIMATE for the clock).</summary>
    public long VmEntryNs { get; init; } = 417;

    /// <summary>One INVLPGB instruction (up to invlpgb_count_max pages). 40 ns: ESTIMATE; no
    /// absolute INVLPGB latency was found (docs/tlb-flush-costs.md).</summary>
    public long InvlpgbNs { get; init; } = 40;

    /// <summary>One TLBSYNC (waits for every CPU to finish the broadcast invalidations). 500 ns:
    /// ESTIMATE, UNVERIFIED (docs/tlb-flush-costs.md).</summary>
    public long TlbsyncNs { get; init; } = 500;

    /// <summary>arm64 fixed cost of a broadcast TLBI sequence: DSB ISHST + final DSB ISH (waiting
    /// for the broadcast to complete, 95% of ptep_clear_flush per C20) + ISB. 386 ns: intercept of
    /// the F4 fit (9650 units, C19) at an assumed 0.04 ns/unit (the FPGA units are unknown).</summary>
    public long TlbiSyncNs { get; init; } = 386;

    /// <summary>arm64 one TLBI VAALE1IS (one page). 20 ns: F4 slope 500 units/page (C19) × 0.04 ns/unit.</summary>
    public long TlbiPageNs { get; init; } = 20;

    /// <summary>arm64 one range TLBI (RVAALE1IS). 58 ns: flat F4 range column ≈ 11,100 units (C19)
    /// minus the sync intercept, × 0.04 ns/unit.</summary>
    public long TlbiRangeOpNs { get; init; } = 58;

    /// <summary>arm64 TLBI VMALLE1IS (all entries), on top of the sync. 40 ns: ESTIMATE (two TLBI ops).</summary>
    public long TlbiAllNs { get; init; } = 40;

    /// <summary>One page walk after a TLB miss. 17 ns: C7 (IvyBridge dTLB walk 17.1 ns; C9 13.4 ns on SandyBridge-EP).</summary>
    public long PageWalkNs { get; init; } = 17;

    /// <summary>Writing one direct-map PTE under cpa_lock. 5 ns: ESTIMATE (a cached store plus the
    /// lookup_address walk is in <see cref="PageWalkNs"/>).</summary>
    public long PteWriteNs { get; init; } = 5;

    /// <summary>Allocating one page-table page (order-0 fast path, GFP_PGTABLE_KERNEL, zeroed).
    /// 250 ns: ESTIMATE (per-call split cost is "an unknown to fit", docs/tlb-flush-costs.md).</summary>
    public long PageTableAllocNs { get; init; } = 250;

    /// <summary>Zeroing 4 KiB (clear_page). 200 ns: ESTIMATE (~20 GB/s rep stos).</summary>
    public long Zero4KNs { get; init; } = 200;

    /// <summary>Copying 4 KiB (copy_page / memcpy). 300 ns: ESTIMATE (~13 GB/s).</summary>
    public long Copy4KNs { get; init; } = 300;

    /// <summary>Handing a contended lock from one CPU to another (cache-line transfer). 100 ns: ESTIMATE.</summary>
    public long LockHandoffNs { get; init; } = 100;

    /// <summary>A guest page fault's fixed part (EPT/stage-2 violation exit, KVM MMU walk, SPTE
    /// install, re-entry), without the guest_memfd work the model adds. 2400 ns: C22 (Firecracker,
    /// 2.93 µs per anonymous guest fault) minus an order-0 allocation and a 4 KiB zeroing.</summary>
    public long GuestFaultBaseNs { get; init; } = 2400;

    /// <summary>A user page fault's fixed part (exception entry/exit, VMA lookup, PTE install).
    /// 250 ns: the fault term of the F2 fit (C13, Amit 2019, 661 ns single-thread loop).</summary>
    public long UserFaultBaseNs { get; init; } = 250;

    /// <summary>A system call's entry and exit plus fd lookup (write()). 100 ns: ESTIMATE.</summary>
    public long SyscallNs { get; init; } = 100;

    /// <summary>An order-0 allocation from the per-CPU list. 60 ns: ESTIMATE.</summary>
    public long FolioAllocNs { get; init; } = 60;

    /// <summary>One per-CPU list refill (rmqueue_bulk of a batch under zone->lock). 1500 ns:
    /// ESTIMATE (63 pages × ~24 ns).</summary>
    public long PcpRefillNs { get; init; } = 1500;

    /// <summary>filemap_add_folio(): memcg charge, xarray store, LRU add. 150 ns: ESTIMATE.</summary>
    public long PageCacheInsertNs { get; init; } = 150;

    /// <summary>One __change_page_attr() round (lookup_address, cpa_lock, static protections),
    /// besides the PTE write. 60 ns: ESTIMATE (no per-call CPA cost is published, docs/tlb-flush-costs.md).</summary>
    public long CpaRoundNs { get; init; } = 60;

    /// <summary>kvm_arch_gmem_prepare() for a non-confidential VM (a no-op call). 20 ns: ESTIMATE.</summary>
    public long GmemPrepareNs { get; init; } = 20;

    /// <summary>Writing one mermap PTE (apply_to_existing_page_range), at get and again at put. 20 ns: ESTIMATE.</summary>
    public long MermapPteNs { get; init; } = 20;

    /// <summary>The built-in defaults for <paramref name="kind"/>: its descriptor's
    /// (<see cref="ArchDescriptor.Costs"/>). Today every descriptor keeps the constants above (the x86
    /// ones calibrated on Intel parts, F1, F2, the arm64 ones on the FPGA shape, F4; fields a kind
    /// does not use are carried unchanged); an architecture with other costs passes its own profile to
    /// its descriptor.</summary>
    public static CostProfile Default(ArchKind kind) => Architectures.Of(kind).Costs;

    /// <summary>The largest value of a flush-primitive field.</summary>
    public const long MaxFlushNs = 1_000_000;

    /// <summary>The largest value of any other field.</summary>
    public const long MaxNs = 100_000_000;

    /// <summary>Every ns field: its key in cost-profile files and reports (snake_case, as the rest of
    /// the report), its range, and how to read and replace it. In declaration order.</summary>
    public static IReadOnlyList<CostField> Fields { get; } =
    [
        new("invlpg_ns", MaxFlushNs, p => p.InvlpgNs, (p, v) => p with { InvlpgNs = v }),
        new("flush_base_ns", MaxFlushNs, p => p.FlushBaseNs, (p, v) => p with { FlushBaseNs = v }),
        new("full_flush_ns", MaxFlushNs, p => p.FullFlushNs, (p, v) => p with { FullFlushNs = v }),
        new("ipi_send_ns", MaxFlushNs, p => p.IpiSendNs, (p, v) => p with { IpiSendNs = v }),
        new("ipi_delivery_ns", MaxFlushNs, p => p.IpiDeliveryNs, (p, v) => p with { IpiDeliveryNs = v }),
        new("ipi_handler_ns", MaxFlushNs, p => p.IpiHandlerNs, (p, v) => p with { IpiHandlerNs = v }),
        new("ack_wait_per_extra_target_ns", MaxFlushNs, p => p.AckWaitPerExtraTargetNs, (p, v) => p with { AckWaitPerExtraTargetNs = v }),
        new("icr_write_ns", MaxFlushNs, p => p.IcrWriteNs, (p, v) => p with { IcrWriteNs = v }),
        new("vm_exit_ns", MaxFlushNs, p => p.VmExitNs, (p, v) => p with { VmExitNs = v }),
        new("vm_entry_ns", MaxFlushNs, p => p.VmEntryNs, (p, v) => p with { VmEntryNs = v }),
        new("invlpgb_ns", MaxFlushNs, p => p.InvlpgbNs, (p, v) => p with { InvlpgbNs = v }),
        new("tlbsync_ns", MaxFlushNs, p => p.TlbsyncNs, (p, v) => p with { TlbsyncNs = v }),
        new("tlbi_sync_ns", MaxFlushNs, p => p.TlbiSyncNs, (p, v) => p with { TlbiSyncNs = v }),
        new("tlbi_page_ns", MaxFlushNs, p => p.TlbiPageNs, (p, v) => p with { TlbiPageNs = v }),
        new("tlbi_range_op_ns", MaxFlushNs, p => p.TlbiRangeOpNs, (p, v) => p with { TlbiRangeOpNs = v }),
        new("tlbi_all_ns", MaxFlushNs, p => p.TlbiAllNs, (p, v) => p with { TlbiAllNs = v }),
        new("page_walk_ns", MaxFlushNs, p => p.PageWalkNs, (p, v) => p with { PageWalkNs = v }),
        new("pte_write_ns", MaxFlushNs, p => p.PteWriteNs, (p, v) => p with { PteWriteNs = v }),
        new("page_table_alloc_ns", MaxNs, p => p.PageTableAllocNs, (p, v) => p with { PageTableAllocNs = v }),
        new("clear_page_ns", MaxNs, p => p.Zero4KNs, (p, v) => p with { Zero4KNs = v }),
        new("copy_page_ns", MaxNs, p => p.Copy4KNs, (p, v) => p with { Copy4KNs = v }),
        new("lock_handoff_ns", MaxNs, p => p.LockHandoffNs, (p, v) => p with { LockHandoffNs = v }),
        new("guest_fault_base_ns", MaxNs, p => p.GuestFaultBaseNs, (p, v) => p with { GuestFaultBaseNs = v }),
        new("user_fault_base_ns", MaxNs, p => p.UserFaultBaseNs, (p, v) => p with { UserFaultBaseNs = v }),
        new("syscall_ns", MaxNs, p => p.SyscallNs, (p, v) => p with { SyscallNs = v }),
        new("folio_alloc_ns", MaxNs, p => p.FolioAllocNs, (p, v) => p with { FolioAllocNs = v }),
        new("pcp_refill_ns", MaxNs, p => p.PcpRefillNs, (p, v) => p with { PcpRefillNs = v }),
        new("page_cache_insert_ns", MaxNs, p => p.PageCacheInsertNs, (p, v) => p with { PageCacheInsertNs = v }),
        new("cpa_round_ns", MaxNs, p => p.CpaRoundNs, (p, v) => p with { CpaRoundNs = v }),
        new("gmem_prepare_ns", MaxNs, p => p.GmemPrepareNs, (p, v) => p with { GmemPrepareNs = v }),
        new("mermap_pte_ns", MaxNs, p => p.MermapPteNs, (p, v) => p with { MermapPteNs = v }),
    ];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first field outside its range.</summary>
    public void Validate()
    {
        foreach (CostField f in Fields)
        {
            long v = f.Get(this);
            if (v < 0 || v > f.MaxNs)
            {
                throw new ArgumentOutOfRangeException(f.Key, v, $"cost profile field '{f.Key}' must be in [0, {f.MaxNs}] ns");
            }
        }
    }
}

/// <summary>One ns field of <see cref="CostProfile"/>.</summary>
/// <param name="Key">Its name in cost-profile files and reports.</param>
/// <param name="MaxNs">The largest accepted value (0 is the smallest).</param>
/// <param name="Get">Reads it.</param>
/// <param name="With">A copy of the profile with it replaced.</param>
public sealed record CostField(string Key, long MaxNs, Func<CostProfile, long> Get, Func<CostProfile, long, CostProfile> With);
