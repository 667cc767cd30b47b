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

    /// <summary>KVM's software work for a host interrupt that lands in guest mode, besides the world
    /// switch (<see cref="VmExitRoundTripNs"/>): the external-interrupt exit (<c>handle_exit_irqoff</c>
    /// runs the host handler) and <c>vcpu_enter_guest</c>'s checks before re-entry (arch/x86/kvm/x86.c).
    /// 220 ns: ESTIMATE, KVM's own work around one VMRUN in the C36 measurement (576 cycles on each
    /// side, of which an in-kernel exit repeats a part), the same share <see cref="GuestFaultBaseNs"/> counts.</summary>
    public long KvmInterruptExitNs { get; init; } = 220;

    /// <summary>A host IPI reaching a CPU in guest mode, until its handler runs: half the world
    /// switch and half KVM's work.</summary>
    public long GuestExitNs => (VmExitRoundTripNs + KvmInterruptExitNs) / 2;

    /// <summary>What the guest loses to one host IPI besides the handler: the whole world switch and KVM's work.</summary>
    public long GuestExitAndEntryNs => VmExitRoundTripNs + KvmInterruptExitNs;

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

    /// <summary>What a CPU that was running pays after a full TLB flush emptied its TLB: the refill
    /// misses of its working set. 8,462 ns: 22,000 cycles to refill a 512-entry dTLB (calibration
    /// C10, Hansen 2014) at 2.6 GHz; an upper bound (he notes real refills are probably faster).</summary>
    public long TlbRefillNs { get; init; } = 8_462;

    /// <summary>One page walk after a TLB miss. 17 ns: C7 (IvyBridge dTLB walk 17.1 ns; C9 13.4 ns on SandyBridge-EP).</summary>
    public long PageWalkNs { get; init; } = 17;

    /// <summary>Writing one direct-map PTE under cpa_lock. 5 ns: ESTIMATE (a cached store plus the
    /// lookup_address walk is in <see cref="PageWalkNs"/>).</summary>
    public long PteWriteNs { get; init; } = 5;

    /// <summary>Allocating one page-table page (order-0 fast path, GFP_PGTABLE_KERNEL, zeroed).
    /// 250 ns: ESTIMATE (per-call split cost is "an unknown to fit", docs/tlb-flush-costs.md).</summary>
    public long PageTableAllocNs { get; init; } = 250;

    /// <summary>Zeroing 4 KiB (<c>clear_page_erms</c>, one page per call as <c>clear_highpage</c> does).
    /// 299 ns: 13.7 GB/s for 4 KiB chunks on AMD Milan, measured by Ankur Arora for
    /// "x86/clear_page: introduce clear_pages()" (commit cb431accb36e; 15.1 GB/s at 2 MiB, 38.1 at 1 GiB
    /// chunks, which a page-at-a-time clear does not reach). docs/prices.md.</summary>
    public long Zero4KNs { get; init; } = 299;

    /// <summary>Copying 4 KiB (<c>copy_from_user</c> / <c>copy_page</c> / a userspace memcpy, all
    /// <c>rep movsb</c> on x86). 300 ns: ESTIMATE (~13.7 GB/s, the clear rate above: no published
    /// 4 KiB copy rate was found; the source is cache-hot in every path modelled). docs/prices.md.</summary>
    public long Copy4KNs { get; init; } = 300;

    /// <summary>Handing a contended lock from one CPU to another (cache-line transfer). 100 ns: ESTIMATE.</summary>
    public long LockHandoffNs { get; init; } = 100;

    /// <summary>KVM's software part of a guest (EPT / stage-2 violation) fault, without the world
    /// switch (<see cref="VmExitRoundTripNs"/>) and the guest_memfd work the model adds: exit dispatch
    /// (<c>handle_ept_violation</c>), <c>kvm_mmu_page_fault</c> → <c>kvm_tdp_page_fault</c> →
    /// <c>kvm_mmu_faultin_pfn</c>, then <c>kvm_tdp_mmu_map</c> (a 4-level walk under <c>mmu_lock</c>
    /// held for read, an atomic SPTE install) and the re-entry checks of <c>vcpu_enter_guest</c>
    /// (arch/x86/kvm/mmu/mmu.c, tdp_mmu.c). 600 ns: ESTIMATE, ≈220 ns of KVM's own work around
    /// the VMRUN (the measurement of C36 has 576 cycles on each side of it, KVM_RUN entry to VMRUN
    /// and back to the ioctl's exit; an in-kernel exit repeats a part of each) plus ≈380 ns for the
    /// fault handling itself (no per-step figure was found). Was 2,400 from
    /// calibration C22, which is a host-userspace fault, not a guest fault.</summary>
    public long GuestFaultBaseNs { get; init; } = 600;

    /// <summary>A host user page fault's fixed part (exception entry/exit, <c>lock_vma_under_rcu</c>,
    /// <c>handle_mm_fault</c> → <c>__do_fault</c>, <c>finish_fault</c>'s PTE install), without the
    /// <c>vm_ops->fault</c> work the model adds. 250 ns: ESTIMATE, at the fault-plus-syscall term of the
    /// F2 fit (246 ns; C13, Amit 2019), an upper bound since that term also covers the madvise call.</summary>
    public long UserFaultBaseNs { get; init; } = 250;

    /// <summary>A system call's entry and exit plus fd lookup (write()). 127 ns: a 1-byte read() of
    /// /dev/zero without page-table isolation (Martin Cracauer, "Microbenchmarking the page table
    /// isolation patches", 2018, Xeon W3580; 537 ns with PTI on that PCID-less part). SECONDARY.</summary>
    public long SyscallNs { get; init; } = 127;

    /// <summary>An order-0 allocation from the per-CPU list. 60 ns: ESTIMATE.</summary>
    public long FolioAllocNs { get; init; } = 60;

    /// <summary>One per-CPU list refill (rmqueue_bulk of a batch under zone->lock). 1500 ns:
    /// ESTIMATE (63 pages × ~24 ns).</summary>
    public long PcpRefillNs { get; init; } = 1500;

    /// <summary>One __change_page_attr() round (lookup_address, cpa_lock, static protections),
    /// besides the PTE write. 60 ns: ESTIMATE (no per-call CPA cost is published, docs/tlb-flush-costs.md).</summary>
    public long CpaRoundNs { get; init; } = 60;

    /// <summary>kvm_arch_gmem_prepare() for a non-confidential VM (a no-op call). 20 ns: ESTIMATE.</summary>
    public long GmemPrepareNs { get; init; } = 20;

    /// <summary>Writing one mermap PTE (apply_to_existing_page_range), at get and again at put. 20 ns: ESTIMATE.</summary>
    public long MermapPteNs { get; init; } = 20;

    // Prices of issue 16 item 3 (docs/prices.md): the parts of filemap_add_folio, the world switch
    // of a guest fault, write()'s per-page loop and kvm_gmem_populate's source pin.

    /// <summary>The hardware world switch of a guest fault: VM exit and VM entry (VMRUN → #VMEXIT →
    /// VMRUN). 520 ns: calibration C36, ≈1,350 cycles measured on AMD (LKML, 2020-12), at 2.6 GHz
    /// like the other cycle counts here. SECONDARY (Intel's figure not found).</summary>
    public long VmExitRoundTripNs { get; init; } = 520;

    /// <summary><c>mem_cgroup_charge()</c> of one folio before <c>__filemap_add_folio</c>, outside the
    /// <c>i_pages</c> lock: usually from the per-CPU stock (a page-counter refill once per
    /// MEMCG_CHARGE_BATCH pages, amortised), then <c>commit_charge</c> and the per-CPU statistics
    /// (mm/memcontrol.c). 40 ns: ESTIMATE.</summary>
    public long MemcgChargeNs { get; init; } = 40;

    /// <summary>What <c>__filemap_add_folio</c> does under <c>xas_lock_irq</c> (mm/filemap.c): the
    /// conflict walk, <c>xas_store</c> (a new xa_node once per 64 slots, amortised),
    /// <c>mapping->nrpages</c> and the NR_FILE_PAGES statistic. The only part of the insert held
    /// under the mapping's <c>i_pages</c> lock. 40 ns: ESTIMATE (no published per-store figure).</summary>
    public long XarrayStoreNs { get; init; } = 40;

    /// <summary>Adding one folio to its LRU list in <c>folio_batch_move_lru</c> (mm/swap.c:
    /// <c>lru_add</c>, <c>lruvec_add_folio</c>), under the lruvec's <c>lru_lock</c>, which a CPU takes
    /// once per drain of its 31-folio batch. 20 ns: ESTIMATE.</summary>
    public long LruAddNs { get; init; } = 20;

    /// <summary>One iteration of <c>generic_perform_write</c> (mm/filemap.c) besides the copy and
    /// the folio lookup or insert: <c>fault_in_iov_iter_readable</c> of the (resident) source,
    /// <c>write_begin</c> / <c>write_end</c> with the folio lock, <c>balance_dirty_pages_ratelimited</c>.
    /// 100 ns: ESTIMATE.</summary>
    public long PerformWriteNs { get; init; } = 100;

    /// <summary>Pinning one source page of <c>kvm_gmem_populate</c> (<c>get_user_pages_fast</c> of a
    /// resident page: a lockless walk and a reference, virt/kvm/guest_memfd.c callers). 60 ns:
    /// ESTIMATE.</summary>
    public long GupFastNs { get; init; } = 60;

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
        new("kvm_interrupt_exit_ns", MaxFlushNs, p => p.KvmInterruptExitNs, (p, v) => p with { KvmInterruptExitNs = v }),
        new("invlpgb_ns", MaxFlushNs, p => p.InvlpgbNs, (p, v) => p with { InvlpgbNs = v }),
        new("tlbsync_ns", MaxFlushNs, p => p.TlbsyncNs, (p, v) => p with { TlbsyncNs = v }),
        new("tlbi_sync_ns", MaxFlushNs, p => p.TlbiSyncNs, (p, v) => p with { TlbiSyncNs = v }),
        new("tlbi_page_ns", MaxFlushNs, p => p.TlbiPageNs, (p, v) => p with { TlbiPageNs = v }),
        new("tlbi_range_op_ns", MaxFlushNs, p => p.TlbiRangeOpNs, (p, v) => p with { TlbiRangeOpNs = v }),
        new("tlbi_all_ns", MaxFlushNs, p => p.TlbiAllNs, (p, v) => p with { TlbiAllNs = v }),
        new("tlb_refill_ns", MaxFlushNs, p => p.TlbRefillNs, (p, v) => p with { TlbRefillNs = v }),
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
        new("cpa_round_ns", MaxNs, p => p.CpaRoundNs, (p, v) => p with { CpaRoundNs = v }),
        new("gmem_prepare_ns", MaxNs, p => p.GmemPrepareNs, (p, v) => p with { GmemPrepareNs = v }),
        new("mermap_pte_ns", MaxNs, p => p.MermapPteNs, (p, v) => p with { MermapPteNs = v }),
        new("vm_exit_round_trip_ns", MaxNs, p => p.VmExitRoundTripNs, (p, v) => p with { VmExitRoundTripNs = v }),
        new("memcg_charge_ns", MaxNs, p => p.MemcgChargeNs, (p, v) => p with { MemcgChargeNs = v }),
        new("xarray_store_ns", MaxNs, p => p.XarrayStoreNs, (p, v) => p with { XarrayStoreNs = v }),
        new("lru_add_ns", MaxNs, p => p.LruAddNs, (p, v) => p with { LruAddNs = v }),
        new("perform_write_ns", MaxNs, p => p.PerformWriteNs, (p, v) => p with { PerformWriteNs = v }),
        new("gup_fast_ns", MaxNs, p => p.GupFastNs, (p, v) => p with { GupFastNs = v }),
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
