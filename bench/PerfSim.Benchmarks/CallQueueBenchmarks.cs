using BenchmarkDotNet.Attributes;
using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;

namespace PerfSim.Benchmarks;

/// <summary>
/// Wall-clock cost of pricing one cross-CPU call (not its simulated cost): one operation = one
/// <c>smp_call_function_many_cond</c> to every other CPU, as a per-folio fault's flush sends it,
/// on a host of 2 × <see cref="Vcpus"/> CPUs whose other half idles (x86 defaults, intel_idle).
/// </summary>
/// <remarks>The initiator walks the vCPUs in turn, 700 ns apart: shorter than a guest-mode
/// target's VM exit and handler, so the queues mix empty ones (an IPI) and ones not yet drained
/// (a queued callback), as under a fault load.</remarks>
[BenchmarkCategory(Categories.Flush)]
[MemoryDiagnoser]
public class CallQueueBenchmarks
{
    private HostCpus _host = null!;
    private readonly TotalLoss _sink = new();
    private int _cpu;
    private long _now;

    [Params(32, 128)]
    public int Vcpus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int cpus = 2 * Vcpus;
        _host = new HostCpus(cpus, CostProfile.Default(PerfSim.Core.Arch.ArchKind.X86_64));
        CpuRole[] roles = [.. Enumerable.Range(0, cpus).Select(c => c < Vcpus ? CpuRole.Vcpu : CpuRole.Idle)];
        _host.Assign(roles, [.. Enumerable.Range(0, cpus).Select(c => c < Vcpus)]);
    }

    [Benchmark]
    public long Broadcast()
    {
        _cpu = _cpu + 1 == Vcpus ? 0 : _cpu + 1;
        _now += 700;
        return _host.CallFunctionMany(_cpu, _now, 98, _sink).DoneNs + _sink.Ns;
    }

    /// <summary>Sums what the targets lost, so the round's output is used.</summary>
    private sealed class TotalLoss : IInterruptSink
    {
        public long Ns { get; private set; }

        public void Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
        {
            foreach (long lost in ns)
            {
                Ns += lost;
            }
        }
    }
}
