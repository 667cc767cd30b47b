using PerfSim.Core.Arch;
using PerfSim.Core.Flush;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>User-mm flushes to a cpumask: <c>flush_tlb_mm_range</c>, KVM's remote flush, the
/// mermap's flush before free and PUNCH_HOLE's shootdowns.</summary>
public sealed class MmFlushTests
{
    private static SimKernel HostOf(int cpus, ArchKind arch = ArchKind.X86_64, int folioOrder = 0)
    {
        SimKernel k = KernelFixture.Create(Strategy.None, cpus: cpus, arch: arch, folioOrder: folioOrder);
        k.Host.Assign([.. Enumerable.Repeat(CpuRole.Host, cpus)], [.. Enumerable.Repeat(true, cpus)]);
        return k;
    }

    /// <summary>A process with a thread on each of <paramref name="cpus"/>.</summary>
    private static KernelProcess MmOn(SimKernel k, params int[] cpus)
    {
        KernelProcess mm = k.CreateProcess();
        foreach (int c in cpus)
        {
            k.RunThread(mm, c);
        }

        return mm;
    }

    // arch/x86/mm/tlb.c flush_tlb_mm_range: flush_tlb_multi(mm_cpumask(mm), info) only when the
    // mask holds another CPU (cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids); else local only.
    [Fact]
    public void Flush_tlb_mm_range_sends_ipis_to_the_other_cpus_of_the_mm_cpumask_only()
    {
        using SimKernel k = HostOf(8);
        KernelProcess mm = MmOn(k, 0);
        k.FlushTlbMmRange(0, mm, 1);
        Assert.Equal((0L, 0L), (k.Host.TotalCounters().IpisSent, k.Flush.TotalCounters().IpiCallbacks));

        k.RunThread(mm, 2);
        k.RunThread(mm, 5);
        k.FlushTlbMmRange(0, mm, 1);
        FlushCounters f = k.Flush.TotalCounters();
        Assert.Equal(2, k.Host.TotalCounters().IpisSent);
        Assert.Equal((2L, 2L, 1L + 3L), (f.MmRangeFlushes, f.IpiCallbacks, f.Invlpg)); // INVLPG on CPU 0, then on 0, 2, 5
        Assert.Equal(k.Costs.IpiHandlerNs + k.Costs.InvlpgNs, k.Clock(2));
        Assert.Equal(0, k.Clock(1) + k.Clock(3) + k.Clock(4) + k.Clock(6) + k.Clock(7));
    }

    // tlb_single_page_flush_ceiling (33): more pages flush the whole mm, no INVLPG.
    [Fact]
    public void More_pages_than_the_ceiling_flush_the_whole_mm()
    {
        using SimKernel k = HostOf(4);
        KernelProcess mm = MmOn(k, 0, 1);
        k.FlushTlbMmRange(0, mm, X86IpiFlush.DefaultSinglePageFlushCeiling);
        Assert.Equal((0L, 2L * 33), (k.Flush.TotalCounters().FullFlushes, k.Flush.TotalCounters().Invlpg));
        k.FlushTlbMmRange(0, mm, X86IpiFlush.DefaultSinglePageFlushCeiling + 1);
        Assert.Equal((1L, 2L * 33), (k.Flush.TotalCounters().FullFlushes, k.Flush.TotalCounters().Invlpg));
    }

    // arch/x86/mm/tlb.c consider_global_asid: mm_active_cpus_exceeds(mm, 3) hands out a global ASID,
    // and broadcast_tlb_flush (INVLPGB + TLBSYNC) replaces the IPIs (calibration C18: ≥ 4 CPUs).
    [Theory]
    [InlineData(3, 2, 0)]
    [InlineData(4, 0, 1)]
    public void Invlpgb_broadcasts_for_an_mm_active_on_four_cpus_and_sends_ipis_below(int cpus, long ipis, long tlbsyncs)
    {
        using SimKernel k = HostOf(8, ArchKind.X86_64Invlpgb);
        KernelProcess mm = MmOn(k, [.. Enumerable.Range(0, cpus)]);

        k.FlushTlbMmRange(0, mm, 1);
        Assert.Equal(ipis, k.Host.TotalCounters().IpisSent);
        Assert.Equal(ipis, k.Flush.TotalCounters().IpiCallbacks);
        Assert.Equal(tlbsyncs, k.Flush.TotalCounters().Tlbsyncs);
    }

    // virt/kvm/kvm_main.c kvm_flush_remote_tlbs → kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH):
    // smp_call_function_many(vCPUs' CPUs, ack_kick, NULL, wait): a kick, a VM exit on each vCPU in guest mode.
    [Fact]
    public void Punch_hole_kicks_the_vms_vcpus_through_the_call_queue()
    {
        using SimKernel k = HostOf(8);
        k.Host.Assign([CpuRole.Host, CpuRole.Vcpu, CpuRole.Vcpu, CpuRole.Host, CpuRole.Idle, CpuRole.Idle, CpuRole.Idle, CpuRole.Idle],
            [true, true, true, true, false, false, false, false]);
        KernelFile f = KernelFixture.Gmem(k, 1024, GmemFlags.None);
        k.RunThread(f.Process, 0);
        k.RunThread(f.Process, 1, vcpu: true);
        k.RunThread(f.Process, 2, vcpu: true);
        Assert.Equal(0, k.GmemFallocate(0, f, 0, 64));
        long before = k.Clock(0);

        k.GmemPunchHole(0, f, 0, 64);

        CpuCallCounters calls = k.Host.TotalCounters();
        Assert.Equal((2L, 2L), (calls.IpisSent, calls.VmExits));
        Assert.Equal(k.Costs.GuestExitAndEntryNs + k.Costs.IpiHandlerNs, k.Clock(1));
        Assert.Equal(0, k.Clock(3)); // not a vCPU of the VM
        Assert.True(k.Clock(0) - before >= k.Costs.IpiSendNs + k.Costs.IpiDeliveryNs + k.Costs.GuestExitNs + k.Costs.IpiHandlerNs);
        Assert.Equal(0, k.Flush.TotalCounters().MmRangeFlushes); // nothing was mapped into the VMM
    }

    // arch/arm64/kvm/mmu.c kvm_arch_flush_remote_tlbs: __kvm_tlb_flush_vmid (a broadcast TLBI), no kick.
    [Fact]
    public void Punch_hole_on_arm64_flushes_the_vmid_by_broadcast_without_a_kick()
    {
        using SimKernel k = HostOf(4, ArchKind.Arm64);
        KernelFile f = KernelFixture.Gmem(k, 1024, GmemFlags.None);
        k.RunThread(f.Process, 1, vcpu: true);
        Assert.Equal(0, k.GmemFallocate(0, f, 0, 64));

        k.GmemPunchHole(0, f, 0, 64);

        Assert.Equal((0L, 0L), (k.Host.TotalCounters().IpisSent, k.Flush.TotalCounters().IpiCallbacks));
        Assert.Equal(0, k.Clock(1));
    }

    // mm/truncate.c truncate_cleanup_folio → unmap_mapping_folio: a folio the VMM mapped through the
    // guest_memfd mmap has its user PTEs zapped, a flush_tlb_mm_range to the VMM mm's cpumask.
    [Fact]
    public void Punch_hole_shoots_down_the_vmms_user_ptes_of_mapped_folios_only()
    {
        using SimKernel k = HostOf(4);
        KernelFile f = KernelFixture.Gmem(k, 1024);
        k.RunThread(f.Process, 0);
        k.RunThread(f.Process, 3, vcpu: true);
        Assert.Equal(0, k.GmemFallocate(0, f, 0, 64));
        for (long i = 0; i < 10; i++)
        {
            Assert.True(k.GmemUserFault(0, f, i).Ok);
        }

        k.GmemPunchHole(0, f, 0, 64);

        FlushCounters fc = k.Flush.TotalCounters();
        Assert.Equal(10, fc.MmRangeFlushes);
        // Each reaches CPU 3 (the vCPU thread is in the VMM's mm): 10 shootdowns plus the KVM kick.
        Assert.Equal(11, k.Host.TotalCounters().Callbacks);
        k.GmemPunchHole(0, f, 0, 64);
        Assert.Equal(10, k.Flush.TotalCounters().MmRangeFlushes); // nothing mapped is left
    }

    // mm/mermap.c: the region's PTEs are non-global and only CPUs whose slice mapped them can hold
    // them: the flush before free goes to those CPUs, through the call queue, counted in ipis.
    [Fact]
    public void The_mermap_flush_before_free_reaches_the_cpus_whose_slice_mapped_pages_only()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, cpus: 8);
        k.Host.Assign([.. Enumerable.Repeat(CpuRole.Host, 8)], [.. Enumerable.Repeat(true, 8)]);
        KernelFile f = KernelFixture.Gmem(k, 1024);
        Assert.True(k.Populate(0, f, 0, PopulationPath.WriteMermap).Ok);
        Assert.True(k.Populate(5, f, 1, PopulationPath.WriteMermap).Ok);
        long ipisBefore = k.Host.TotalCounters().IpisSent;
        long callbacksBefore = k.Flush.TotalCounters().IpiCallbacks;

        k.GmemPunchHole(0, f, 0, 2);

        Assert.True(k.TotalCounters().MermapFreeFlushes >= 1);
        Assert.Equal(1, k.Host.TotalCounters().IpisSent - ipisBefore); // CPU 5 only
        Assert.Equal(1, k.Flush.TotalCounters().IpiCallbacks - callbacksBefore);
        Assert.Equal(0, k.Clock(1) + k.Clock(2) + k.Clock(3) + k.Clock(4) + k.Clock(6) + k.Clock(7));
    }

    // Quantum mode logs the cross call with its mask id; the weave reaches the same CPUs.
    [Fact]
    public void A_masked_cross_call_in_quantum_mode_reaches_the_same_cpus()
    {
        using SimKernel k = HostOf(8);
        KernelProcess mm = MmOn(k, 0, 6);
        using (QuantumSession session = k.BeginQuanta(new NoLatencies()))
        {
            using (session.BeginParallelRound())
            {
                k.FlushTlbMmRange(0, mm, 1);
            }
        }

        Assert.Equal((1L, 1L), (k.Host.TotalCounters().IpisSent, k.Host.TotalCounters().Callbacks));
        Assert.Equal(k.Costs.IpiHandlerNs + k.Costs.InvlpgNs, k.Clock(6));
        Assert.Equal(0, k.Clock(1) + k.Clock(2) + k.Clock(3) + k.Clock(4) + k.Clock(5) + k.Clock(7));
    }

    private sealed class NoLatencies : ILatencySink
    {
        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs)
        {
        }
    }
}
