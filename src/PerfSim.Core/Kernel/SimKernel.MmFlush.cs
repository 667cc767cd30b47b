using PerfSim.Core.Flush;

namespace PerfSim.Core.Kernel;

/// <summary>User-mm TLB flushes (<c>flush_tlb_mm_range</c>), KVM's remote flush of a VM's vCPUs,
/// and the anonymous-memory paths of the will-it-scale <c>tlb_flush2</c> loop.</summary>
public sealed partial class SimKernel
{
    /// <summary>An mm gets a global (broadcast) ASID once active on more than 3 CPUs:
    /// arch/x86/mm/tlb.c <c>consider_global_asid</c> → <c>mm_active_cpus_exceeds(mm, 3)</c>
    /// (Linux 6.15; the first posting used 3 or more, calibration C18).</summary>
    public const int GlobalAsidMinCpus = 4;

    /// <summary>A thread of <paramref name="mm"/> runs on <paramref name="cpu"/> (a KVM vCPU thread
    /// when <paramref name="vcpu"/>): <c>switch_mm_irqs_off</c> sets the CPU in <c>mm_cpumask</c>.
    /// Setup, outside any parallel round.</summary>
    public void RunThread(KernelProcess mm, int cpu, bool vcpu = false)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, CpuCount);
        RequireSerial("a change of mm_cpumask");
        if (mm.CpuSet.Add(cpu))
        {
            mm.CpuMaskId = Host.MaskId([.. mm.CpuSet]);
        }

        if (vcpu && mm.VcpuSet.Add(cpu))
        {
            mm.VcpuMaskId = Host.MaskId([.. mm.VcpuSet]);
        }
    }

    /// <summary>
    /// <c>flush_tlb_mm_range(mm, start, start + pages, PAGE_SHIFT, false)</c> issued by
    /// <paramref name="cpu"/> (arch/x86/mm/tlb.c): more than <c>tlb_single_page_flush_ceiling</c>
    /// pages flush the whole mm; an mm with a global ASID (INVLPGB, active on
    /// <see cref="GlobalAsidMinCpus"/> or more CPUs) is flushed by <c>broadcast_tlb_flush</c>
    /// (INVLPGB + TLBSYNC, no IPI); otherwise, when <c>mm_cpumask</c> holds another CPU,
    /// <c>flush_tlb_multi</c> → <c>on_each_cpu_cond_mask(should_flush_tlb, …, mm_cpumask)</c>: a
    /// callback on each other CPU of the mask through the call queues (no CPU of the mask is lazy
    /// here: each runs a thread of the mm), else the local flush alone. arm64's user flushes are
    /// TLBI…IS broadcasts (arch/arm64/include/asm/tlbflush.h <c>__flush_tlb_range</c>). The TLB
    /// model holds kernel translations only: nothing is invalidated, the flush is priced and counted.
    /// </summary>
    public void FlushTlbMmRange(int cpu, KernelProcess mm, long pages)
    {
        ArgumentNullException.ThrowIfNull(mm);
        bool broadcast = DirectMap.Profile.IsArm64
            || (Flush.Arch.Flush is X86InvlpgbFlush && mm.ActiveCpus >= GlobalAsidMinCpus);
        int others = mm.ActiveCpus - (mm.CpuSet.Contains(cpu) ? 1 : 0);
        FlushOutcome o = Flush.FlushMmRange(cpu, pages, broadcast ? 0 : others, broadcast);
        o = CrossCall(cpu, o, mm.CpuMaskId);
        Charge(cpu, o.InitiatorLatencyNs);
    }

    /// <summary>
    /// <c>kvm_flush_remote_tlbs()</c> (virt/kvm/kvm_main.c) for the VM of <paramref name="vmm"/>:
    /// <c>kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH)</c> kicks the vCPUs with
    /// <c>smp_call_function_many(cpus, ack_kick, NULL, wait)</c> (the request has KVM_REQUEST_WAIT),
    /// an empty callback: each vCPU flushes its own TLB when it next enters the guest (that INVEPT
    /// is not charged). PerfSim sends to every CPU that runs a vCPU of the VM; the kernel skips a
    /// vCPU not IN_GUEST_MODE (one in a host path pays the handler here instead). arm64 sends no
    /// kick: <c>kvm_arch_flush_remote_tlbs</c> (arch/arm64/kvm/mmu.c) flushes the VMID by broadcast,
    /// <c>__kvm_tlb_flush_vmid</c> (TLBI VMALLS12E1IS + DSB), and returns 0.
    /// </summary>
    internal void KvmFlushRemoteTlbs(int cpu, KernelProcess vmm)
    {
        if (DirectMap.Profile.IsArm64)
        {
            Charge(cpu, Costs.TlbiAllNs + Costs.TlbiSyncNs);
            return;
        }

        int targets = vmm.VcpuCpus - (vmm.VcpuSet.Contains(cpu) ? 1 : 0);
        if (targets == 0)
        {
            return;
        }

        RequireSerial("kvm_flush_remote_tlbs");
        Flush.CountCallbacks(cpu, targets);
        var o = new FlushOutcome(0, false, targets, 0, targets, 0, default);
        o = CrossCall(cpu, o, vmm.VcpuMaskId);
        Charge(cpu, o.InitiatorLatencyNs);
    }

    /// <summary>
    /// A write to an untouched page of a private anonymous mapping of <paramref name="mm"/>
    /// (mm/memory.c <c>do_anonymous_page</c>): the fault's fixed part, an order-0 allocation, its
    /// zeroing (<c>clear_page</c>), the memcg charge and the LRU add. Private memory: no shared state.
    /// </summary>
    public PathResult AnonWriteFault(int cpu, KernelProcess mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        Enter(cpu);
        long start = Clock(cpu);
        Charge(cpu, Costs.UserFaultBaseNs + Costs.FolioAllocNs + Costs.Zero4KNs + Costs.MemcgChargeNs + Costs.LruAddNs);
        CountersOf(cpu).UserFaults++;
        return new PathResult(0, -1, Clock(cpu) - start);
    }

    /// <summary>A read of a page of a private anonymous mapping that is not mapped: the zero page
    /// is mapped read-only (mm/memory.c <c>do_anonymous_page</c>, <c>my_zero_pfn</c>): the fault's
    /// fixed part.</summary>
    public PathResult AnonReadFault(int cpu, KernelProcess mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        Enter(cpu);
        long start = Clock(cpu);
        Charge(cpu, Costs.UserFaultBaseNs);
        CountersOf(cpu).UserFaults++;
        return new PathResult(0, -1, Clock(cpu) - start);
    }

    /// <summary>
    /// <c>madvise(MADV_DONTNEED)</c> of <paramref name="pages"/> mapped anonymous pages of
    /// <paramref name="mm"/> (mm/madvise.c → <c>zap_page_range_single</c>): the system call, a
    /// walk and a PTE clear per page, one <see cref="FlushTlbMmRange"/> from the mmu_gather
    /// (<c>tlb_finish_mmu</c> → <c>tlb_flush</c>), then the pages are freed (an order-0 free
    /// priced as the allocation).
    /// </summary>
    public PathResult MadviseDontneed(int cpu, KernelProcess mm, long pages)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        Enter(cpu);
        long start = Clock(cpu);
        Charge(cpu, Costs.SyscallNs + (pages * (Costs.PageWalkNs + Costs.PteWriteNs)));
        FlushTlbMmRange(cpu, mm, pages);
        Charge(cpu, pages * Costs.FolioAllocNs);
        CountersOf(cpu).MadviseDontneed++;
        return new PathResult(0, -1, Clock(cpu) - start);
    }

    /// <summary><c>mmap()</c> of private anonymous memory: the system call (the VMA setup is not
    /// priced: ESTIMATE 0 beyond the syscall).</summary>
    public void Mmap(int cpu) => Charge(cpu, Costs.SyscallNs);

    /// <summary><c>munmap()</c> of a range with <paramref name="mappedPages"/> present PTEs (mm/vma.c
    /// → <c>unmap_region</c>): the system call, a walk and a PTE clear per page, and the mmu_gather's
    /// <see cref="FlushTlbMmRange"/> (more than the ceiling: the whole mm).</summary>
    public void Munmap(int cpu, KernelProcess mm, long mappedPages)
    {
        ArgumentNullException.ThrowIfNull(mm);
        Enter(cpu);
        Charge(cpu, Costs.SyscallNs + (mappedPages * (Costs.PageWalkNs + Costs.PteWriteNs)));
        FlushTlbMmRange(cpu, mm, mappedPages);
    }
}
