using BenchmarkDotNet.Attributes;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;

namespace PerfSim.Benchmarks;

/// <summary>
/// Wall-clock cost of the quantum weave (not its simulated cost): one operation = one 100 µs
/// quantum of 32 vCPUs' per-folio faults (about 140: path entry, <c>i_pages</c>, <c>cpa_lock</c>,
/// the flush's cross call to every other CPU, latency) put in simulated-time order, their
/// interrupts landed. The weave runs on one host thread beside the lanes, so with two threads it
/// is the engine's critical path (docs/engine.md, "Speed").
/// </summary>
/// <remarks>As in the engine (<c>SimKernel.CloseQuantum</c>): each vCPU logs the faults it starts
/// before the quantum's end from its clock (think times from a fixed seed), the delays the last
/// weave found reach the clocks, the logs close, and entries beyond the end are carried. The host
/// is 64 CPUs whose upper half idles (x86 defaults). The setup runs quanta until each lane's
/// backlog of carried entries is at its steady size (it settles near 85 µs of simulated time), so
/// the measured quanta grow no buffer: measured on the benchmark's thread, 40,000 quanta in, the
/// next 90,000 allocated nothing (after 20,000, one more buffer grew within 10,000).
/// <para><see cref="Log"/> takes parts of the fault's log away, to show what each costs the weave
/// (docs/engine.md, "Speed", seventeenth session): divide an operation by the faults per quantum
/// the cleanup prints, since each shape settles at its own rate (without path entries every IPI
/// finds its vCPU in guest mode, a VM exit each, so fewer faults fit a quantum; without the
/// flush nothing delays anyone, and <c>cpa_lock</c> alone paces the vCPUs).</para></remarks>
[BenchmarkCategory(Categories.Flush)]
[MemoryDiagnoser]
public class WeaveBenchmarks
{
    /// <summary>As in issue 19's configuration (32 vCPUs on 64 CPUs).</summary>
    private const int Vcpus = 32;
    private const int Cpus = 2 * Vcpus;
    private const long QuantumNs = 100_000;
    private const int WarmupQuanta = 40_000;
    private QuantumWeaver _weaver = null!;
    private long[] _clocks = null!;
    private Random _random = null!;
    private long _end;

    /// <summary>Faults logged so far (the cleanup prints the mean per quantum).</summary>
    private long _faults;
    private long _quanta;

    /// <summary>Which of a per-folio fault's log entries the vCPUs log.</summary>
    public enum FaultLog
    {
        /// <summary>All five: path entry, <c>i_pages</c>, <c>cpa_lock</c>, the flush's cross call, latency.</summary>
        Fault,

        /// <summary>Without the path entry and the latency (the weave's lazy entries).</summary>
        NoPathEntries,

        /// <summary>The cross call replaced by an ordered entry that does nothing (an event with no
        /// sink): the same ordered steps, no IPI priced and no delay landed.</summary>
        NoFlushPricing,
    }

    [Params(FaultLog.Fault, FaultLog.NoPathEntries, FaultLog.NoFlushPricing)]
    public FaultLog Log { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var host = new HostCpus(Cpus, CostProfile.Default(ArchKind.X86_64));
        CpuRole[] roles = [.. Enumerable.Range(0, Cpus).Select(c => c < Vcpus ? CpuRole.Vcpu : CpuRole.Idle)];
        host.Assign(roles, [.. Enumerable.Range(0, Cpus).Select(c => c < Vcpus)]);
        _weaver = new QuantumWeaver(Cpus, new SimLockTable(), host);
        _random = new Random(19);
        _clocks = [.. Enumerable.Range(0, Vcpus).Select(c => (long)_random.Next(4_000))];
        _end = 0;
        for (int q = 0; q < WarmupQuanta; q++)
        {
            WeaveQuantum();
        }

        _faults = 0;
        _quanta = 0;
    }

    [GlobalCleanup]
    public void Cleanup() => Console.WriteLine($"// WeaveBenchmarks ({Log}): {(double)_faults / Math.Max(1, _quanta):F1} faults per quantum");

    [Benchmark]
    public long WeaveQuantum()
    {
        QuantumLog[] logs = _weaver.Logs;
        bool pathEntries = Log != FaultLog.NoPathEntries;
        bool flushPricing = Log != FaultLog.NoFlushPricing;
        _end += QuantumNs;
        for (int cpu = 0; cpu < Vcpus; cpu++)
        {
            long t = _clocks[cpu];
            for (; t < _end; _faults++)
            {
                // Shaped like an x86 per-folio fault's log.
                if (pathEntries)
                {
                    logs[cpu].Add(new QuantumEntry(QuantumKind.Enter, t, 0, 0, 0));
                }

                logs[cpu].Add(new QuantumEntry(QuantumKind.Lock, t + 600, 120, 30, SimLockTable.PagesLock(1)));
                logs[cpu].Add(new QuantumEntry(QuantumKind.Lock, t + 1_100, 450, 30, SimLockTable.CpaLock));
                logs[cpu].Add(flushPricing
                    ? new QuantumEntry(QuantumKind.CrossCall, t + 1_600, 98, 415, HostCpus.AllOthers)
                    : new QuantumEntry(QuantumKind.Event, t + 1_600, 0, 0, 0));
                if (pathEntries)
                {
                    logs[cpu].Add(new QuantumEntry(QuantumKind.Latency, t + 2_100, 2_100, 0, 0));
                }
                t += 2_100 + 1_000 + _random.Next(2_000);
            }

            _clocks[cpu] = t;
        }

        // The log closes, then the last weave's delays reach the clocks (the closed log was
        // written without them: the weave adds them to its times).
        _weaver.Close(_end);
        long delays = 0;
        for (int cpu = 0; cpu < Cpus; cpu++)
        {
            long settled = _weaver.Settle(cpu, out _);
            delays += settled;
            if (cpu < Vcpus)
            {
                _clocks[cpu] += settled;
            }
        }

        _weaver.WeaveClosed();
        _quanta++;
        return delays;
    }
}
