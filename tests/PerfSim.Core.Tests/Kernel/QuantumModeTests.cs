using PerfSim.Core.Allocator;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>The kernel's quantum mode: what the engine's parallel rounds rely on.</summary>
public sealed class QuantumModeTests
{
    [Fact]
    public void A_fault_that_must_split_the_direct_map_is_not_cpu_local_and_is_refused_in_a_parallel_round()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelFile file = KernelFixture.Gmem(k, 1024);
        var latencies = new Recorder();
        using QuantumSession session = k.BeginQuanta(latencies);

        // The first fault zaps a page of a 1G/2M mapping: a split, so the engine must run it alone.
        Assert.False(k.FaultIsCpuLocal(0, file, 0));
        using (session.BeginParallelRound())
        {
            Assert.Throws<InvalidOperationException>(() => k.GmemGetPfn(0, file, 0));
        }
    }

    [Fact]
    public void Once_the_region_is_split_a_fault_is_cpu_local_and_its_waits_are_woven_into_its_latency()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelFile file = KernelFixture.Gmem(k, 1024);
        var latencies = new Recorder();
        using QuantumSession session = k.BeginQuanta(latencies);
        PathResult first = k.GmemGetPfn(0, file, 0);
        k.RecordLatency(0, 0, first.LatencyNs, latencies);
        Assert.Equal(PageLevel.Level4K, k.DirectMap.Lookup(first.Pfn).Level);

        // CPU 0's next fault: its per-CPU list was refilled and the region is split, so it is local.
        Assert.True(k.FaultIsCpuLocal(0, file, 1));
        PathResult second;
        using (session.BeginParallelRound())
        {
            second = k.GmemGetPfn(0, file, 1);
        }

        k.RecordLatency(0, 0, second.LatencyNs, latencies);

        // CPU 1 faults alone, starting when CPU 0's first fault did: its lock holds overlap CPU 0's.
        PathResult other = k.GmemGetPfn(1, file, 512);
        k.RecordLatency(1, 0, other.LatencyNs, latencies);
        Assert.Empty(latencies.Seen);

        session.Dispose();

        // Latencies arrive only once woven: the service time is what the path charged itself, the
        // elapsed time adds the waits found there (lock waits, the flushes' waits for their targets).
        Assert.Equal(3, latencies.Seen.Count);
        var byCpu = latencies.Seen.Zip(latencies.Service, (seen, service) => (seen.Cpu, Service: service)).ToList();
        Assert.Equal([first.LatencyNs, second.LatencyNs], byCpu.Where(s => s.Cpu == 0).Select(s => s.Service));
        Assert.Equal([other.LatencyNs], byCpu.Where(s => s.Cpu == 1).Select(s => s.Service));
        Assert.All(latencies.Seen.Zip(latencies.Service), p => Assert.True(p.First.Ns > p.Second, $"CPU {p.First.Cpu}: elapsed {p.First.Ns} <= service {p.Second}"));
        long woven = latencies.Seen.Single(s => s.Cpu == 1).Ns;
        // Whatever cpa_lock wait CPU 1 met is inside its elapsed latency.
        Assert.InRange(k.CpaLock.WaitNs, 0, woven - other.LatencyNs);
    }

    [Fact]
    public void Other_cpus_tlbs_are_flushed_when_the_quantum_closes_before_any_weave()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelFile file = KernelFixture.Gmem(k, 1024);
        var latencies = new Recorder();
        using QuantumSession session = k.BeginQuanta(latencies);
        k.GmemGetPfn(0, file, 0);

        // CPU 1 holds the direct-map translation of the page CPU 0's next fault zaps.
        Assert.True(k.Allocator.TryPeekPcp(0, AllocFlags.None, out long next));
        k.Tlb.Fill(1, next, PageLevel.Level4K);
        PathResult fault;
        using (session.BeginParallelRound())
        {
            fault = k.GmemGetPfn(0, file, 1);
        }

        k.RecordLatency(0, 0, fault.LatencyNs, latencies);
        Assert.Equal(next, fault.Pfn);

        // CPU 0's own TLB is flushed at once, CPU 1's when the quantum closes; the weave comes later.
        Assert.False(k.Tlb.Holds(0, next));
        Assert.True(k.Tlb.Holds(1, next));
        session.CloseQuantum(100_000);
        Assert.False(k.Tlb.Holds(1, next));
        Assert.Empty(latencies.Seen);

        // The next quantum may close while this one waits for its weave (depth 2), a third may not.
        Assert.Equal(2, session.WeaveDepth);
        session.CloseQuantum(200_000);
        Assert.Throws<InvalidOperationException>(() => session.CloseQuantum(300_000));
        session.WeaveClosed();
        Assert.Equal(fault.LatencyNs, Assert.Single(latencies.Service));
        Assert.True(Assert.Single(latencies.Seen).Ns > fault.LatencyNs, "the woven latency adds the flush's wait for CPU 1");
        session.Dispose();
        Assert.False(k.InQuanta);
    }

    [Fact]
    public void A_cpu_that_refilled_gets_its_next_batch_staged_and_that_refill_runs_in_a_parallel_round()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        KernelFile file = KernelFixture.Gmem(k, 1024);
        using QuantumSession session = k.BeginQuanta(new Recorder());

        // CPU 0 empties its per-CPU list, refilled from the zone: alone, since that is shared state.
        long index = 0;
        do
        {
            k.GmemGetPfn(0, file, index++);
        }
        while (k.Allocator.TryPeekPcp(0, AllocFlags.None, out _));

        Assert.False(k.FaultIsCpuLocal(0, file, index));
        Assert.Equal(1, k.Allocator.ZoneRefillsOf(0));

        // Its next batch is drawn beside the next quantum's first round, and pending meanwhile
        // (whichever host thread got there first, the answer is the same).
        session.CloseQuantum(100_000);
        Assert.False(k.FaultIsCpuLocal(0, file, index));
        session.WeaveClosed();
        Assert.False(k.FaultIsCpuLocal(0, file, index));

        // From the next quantum on the refill takes the staged batch: CPU-local, no zone access.
        session.CloseQuantum(200_000);
        session.WeaveClosed();
        Assert.True(k.FaultIsCpuLocal(0, file, index));
        using (session.BeginParallelRound())
        {
            k.GmemGetPfn(0, file, index);
        }

        Assert.Equal(2, k.Allocator.PcpRefillsOf(0));
        Assert.Equal(1, k.Allocator.ZoneRefillsOf(0));
        session.Dispose();
    }

    [Fact]
    public void One_session_at_a_time_marks_its_parallel_rounds_and_turns_quantum_mode_off_when_disposed()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio);
        QuantumSession session = k.BeginQuanta(new Recorder());
        Assert.True(k.InQuanta);
        Assert.True(k.Flush.DeferRemote);
        Assert.Throws<InvalidOperationException>(() => k.BeginQuanta(new Recorder()));
        using (session.BeginParallelRound())
        {
            Assert.True(session.InParallelRound);
        }

        Assert.False(session.InParallelRound);
        session.Dispose();
        Assert.False(k.InQuanta);
        Assert.False(k.Flush.DeferRemote);
        Assert.False(k.Tlb.DeferRegionMasks);
        Assert.Throws<ObjectDisposedException>(() => session.BeginParallelRound());
        using QuantumSession next = k.BeginQuanta(new Recorder());
        Assert.True(k.InQuanta);
    }

    [Fact]
    public void A_log_entry_is_three_words_and_keeps_every_field()
    {
        Assert.Equal(24, System.Runtime.CompilerServices.Unsafe.SizeOf<QuantumEntry>());
        foreach (QuantumKind kind in Enum.GetValues<QuantumKind>())
        {
            var e = new QuantumEntry(kind, long.MaxValue >> 11, long.MinValue, int.MinValue, QuantumEntry.MaxId);
            Assert.Equal((kind, long.MaxValue >> 11, long.MinValue, (long)int.MinValue, QuantumEntry.MaxId), (e.Kind, e.TimeNs, e.A, e.B, e.Id));
            QuantumEntry moved = e.WithTime(-5);
            Assert.Equal((kind, -5L, long.MinValue, (long)int.MinValue, QuantumEntry.MaxId), (moved.Kind, moved.TimeNs, moved.A, moved.B, moved.Id));
        }

        Assert.Equal(HostCpus.RefillBit, new QuantumEntry(QuantumKind.CrossCall, 0, 0, int.MaxValue, HostCpus.RefillBit | 3).Id & HostCpus.RefillBit);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantumEntry(QuantumKind.Lock, 0, 0, 0, QuantumEntry.MaxId + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantumEntry(QuantumKind.Event, 0, 0, int.MaxValue + 1L, 0));
    }

    [Fact]
    public void Invalidate_lock_writer_waits_for_the_latest_reader_on_any_cpu()
    {
        var l = new SimRwLock(cpus: 4);
        Assert.Equal(100, l.ReadGrant(100));
        l.ReadRelease(3, 500);
        l.ReadRelease(1, 300);
        l.ReadRelease(3, 400); // an earlier end on the same CPU does not move it back
        Assert.Equal(500, l.ReadersFreeAtNs);
        Assert.Equal(500, l.WriteGrant(200));
        l.WriteRelease(700);
        Assert.Equal(700, l.ReadGrant(600));
        Assert.Equal(800, l.WriteGrant(800));
    }

    [Fact]
    public void Outside_quantum_mode_latencies_are_recorded_at_once()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        var latencies = new Recorder();
        k.RecordLatency(2, 1, 1234, latencies);
        Assert.Equal((2, 1, 1234L), Assert.Single(latencies.Seen));
        Assert.False(k.InQuanta);
    }

    private sealed class Recorder : ILatencySink
    {
        public List<(int Cpu, int Histogram, long Ns)> Seen { get; } = [];

        public List<long> Service { get; } = [];

        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs)
        {
            Seen.Add((cpu, histogram, elapsedNs));
            Service.Add(serviceNs);
        }
    }
}
