using System.Diagnostics;
using PerfSim.Core.Events;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;
using PerfSim.Engine.Hosts;
using PerfSim.Reporting.Input;
using PerfSim.Tracing.Files;

namespace PerfSim.Engine.Simulation;

/// <summary>What a replay read and did besides the run itself.</summary>
/// <param name="Events">Events in the trace.</param>
/// <param name="Replayed">Workload events replayed (faults, population, hole punches).</param>
/// <param name="Ignored">Consequence events skipped (zaps, flushes, splits, ...: re-derived by the replay) and phase markers.</param>
/// <param name="OutOfRange">Workload events whose file index lies outside the replayed file, skipped.</param>
/// <param name="Bytes">Trace bytes read.</param>
/// <param name="Drops">Events the recording writer dropped (its end marker; 0 for text).</param>
/// <param name="WallSeconds">Reading plus simulating, wall clock.</param>
public sealed record ReplayStats(long Events, long Replayed, long Ignored, long OutOfRange, long Bytes, long Drops, double WallSeconds)
{
    /// <summary>Replay throughput: trace megabytes (10^6) per wall second.</summary>
    public double MegabytesPerSecond => WallSeconds <= 0 ? 0 : Bytes / 1e6 / WallSeconds;
}

/// <summary>A replayed run: the same result a scenario run gives, and the replay's own figures.</summary>
public sealed record ReplayResult(RunResult Run, ReplayStats Stats);

/// <summary>
/// Re-runs a recorded workload on a freshly built simulated kernel, possibly under another strategy,
/// architecture or CPU count (docs/trace-format.md, "Replay").
/// </summary>
/// <remarks>
/// <para>The workload, not the outcome, is replayed: <see cref="SimEventKind.Fault"/> (Extra = file
/// index) becomes a guest fault (<c>kvm_gmem_get_pfn</c>) on one guest_memfd of the configuration's
/// guest size, or a <c>secretmem_fault</c> on one memfd_secret of <c>pages</c> pages when the
/// configuration's scenario is secretmem-touch; <see cref="SimEventKind.PopulatePage"/> populates
/// its index by the configured population path; <see cref="SimEventKind.PunchHole"/> punches
/// [Pfn, Pfn + Extra). Everything else (zaps, restores, splits, flushes, mermap, violations,
/// pageblock flips) is a consequence, re-derived by the replay and ignored in the trace.</para>
/// <para>Order: <see cref="SimEventKind.Phase"/> markers cut the trace into phases, each run
/// like a scenario phase (clocks aligned before and after). Within a phase every CPU replays its
/// events in recorded-time order; CPUs interleave by the engine's rule (lowest simulated clock
/// first, then lowest CPU). A recording of CPU c replays on CPU c modulo the configured CPUs.</para>
/// </remarks>
public static class ReplayRun
{
    /// <summary>The configuration a trace was recorded with (a binary trace's header), else the defaults.</summary>
    public static ScenarioConfig RecordedConfig(TraceInput trace, string source)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return trace.RunConfigJson.Length == 0
            ? new ScenarioConfig()
            : ScenarioFields.ApplyJson(new ScenarioConfig(), trace.RunConfigJson, source + ": run configuration");
    }

    /// <summary>Replays <paramref name="trace"/> under <paramref name="config"/> (validated).</summary>
    /// <param name="trace">An opened trace, read to its end.</param>
    /// <param name="config">The configuration to replay under, e.g. <see cref="RecordedConfig"/> with changes.</param>
    /// <param name="host">The host's memory, or null for <c>config.RamBytes</c>.</param>
    /// <param name="sink">Records the replay's own events (a binary trace), or null.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="TraceFormatException">The trace is malformed (events before it were replayed).</exception>
    public static async Task<ReplayResult> ExecuteAsync(TraceInput trace, ScenarioConfig config, HostSpec? host = null, ISimEventSink? sink = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var wall = Stopwatch.StartNew();
        using RunScope run = RunScope.Start(config, host, sink, progress: null);
        var workload = new ReplayWorkload(run.Context, run.Simulator);
        long events = await trace.ReadBatchesAsync(workload.Add, cancellationToken).ConfigureAwait(false);
        workload.RunPhase();
        RunResult result = run.Finish();
        wall.Stop();
        return new ReplayResult(result, new ReplayStats(events, workload.Replayed, workload.Ignored, workload.OutOfRange, trace.BytesRead, trace.Drops, wall.Elapsed.TotalSeconds));
    }

    /// <summary>Replays the trace file at <paramref name="path"/> under its recorded configuration,
    /// changed by <paramref name="configure"/> (for benchmarks: <see cref="ReplayStats.MegabytesPerSecond"/>).</summary>
    public static ReplayResult Execute(string path, Func<ScenarioConfig, ScenarioConfig>? configure = null)
    {
        return Run().GetAwaiter().GetResult();

        async Task<ReplayResult> Run()
        {
            await using TraceInput trace = await TraceInput.OpenAsync(File.OpenRead(path)).ConfigureAwait(false);
            ScenarioConfig config = RecordedConfig(trace, path);
            config = ScenarioFields.Validate(configure?.Invoke(config) ?? config, path);
            return await ExecuteAsync(trace, config).ConfigureAwait(false);
        }
    }
}

/// <summary>Buffers one phase of workload events per CPU and runs it through the event loop.</summary>
internal sealed class ReplayWorkload
{
    private readonly SimContext _context;
    private readonly Simulator _simulator;
    private readonly KernelFile _file;
    private readonly List<SimEvent>[] _byCpu;
    private long _buffered;

    public ReplayWorkload(SimContext context, Simulator simulator)
    {
        _context = context;
        _simulator = simulator;
        ScenarioConfig c = context.Config;
        SimKernel k = context.Kernel;
        KernelProcess process = k.CreateProcess();
        if (c.Scenario == ScenarioNames.SecretmemTouch)
        {
            int error = k.SecretmemCreate(process, c.Pages, out KernelFile? file);
            _file = error == 0 ? file! : throw new InputException($"scenario: memfd_secret() fails with {error} on this host (can_set_direct_map() is false); set rodata to full");
        }
        else
        {
            _file = SimulationRun.CreateGuestMemfd(k, process, c.GuestPages);
        }

        _byCpu = [.. Enumerable.Range(0, k.CpuCount).Select(_ => new List<SimEvent>())];
    }

    public long Replayed { get; private set; }

    public long Ignored { get; private set; }

    public long OutOfRange { get; private set; }

    public void Add(ReadOnlySpan<SimEvent> batch)
    {
        foreach (ref readonly SimEvent e in batch)
        {
            switch (e.Kind)
            {
                case SimEventKind.Phase:
                    Ignored++;
                    RunPhase();
                    break;
                case SimEventKind.Fault or SimEventKind.PopulatePage or SimEventKind.PunchHole:
                    if (e.Cpu < 0)
                    {
                        throw new InputException($"trace: a {e.Kind} event has CPU {e.Cpu}");
                    }

                    _byCpu[e.Cpu % _byCpu.Length].Add(e);
                    _buffered++;
                    break;
                default:
                    Ignored++;
                    break;
            }
        }
    }

    /// <summary>Runs the buffered phase, if any.</summary>
    public void RunPhase()
    {
        if (_buffered == 0)
        {
            return;
        }

        var actors = new List<Actor>();
        for (int cpu = 0; cpu < _byCpu.Length; cpu++)
        {
            List<SimEvent> events = _byCpu[cpu];
            if (events.Count > 0)
            {
                // Stable: events of one recorded time keep their file order.
                actors.Add(new ReplayActor(cpu, [.. events.OrderBy(e => e.TimeNs)], this));
                events.Clear();
            }
        }

        _simulator.RunPhase(actors, _buffered);
        _buffered = 0;
    }

    /// <summary>Whether <paramref name="e"/> is a fault the engine may run in a parallel round: the
    /// same test the scenario's actors make, so a replay runs its steps as the recorded run did.</summary>
    public bool IsLocalFault(int cpu, in SimEvent e) =>
        e.Kind == SimEventKind.Fault && _context.Config.BackgroundAccesses == 0
        && (ulong)e.Extra < (ulong)_file.SizePages && _context.Kernel.FaultIsCpuLocal(cpu, _file, e.Extra);

    /// <summary>Whether <paramref name="e"/> is a vCPU's fault (guest_memfd, not secretmem).</summary>
    public bool IsGuestFault(in SimEvent e) => e.Kind == SimEventKind.Fault && _file.Kind == FileKind.GuestMemfd;

    /// <summary>Performs one workload event on <paramref name="cpu"/>.</summary>
    public void Perform(int cpu, in SimEvent e)
    {
        SimKernel k = _context.Kernel;
        long index = e.Kind == SimEventKind.PunchHole ? e.Pfn : e.Extra;
        if ((ulong)index >= (ulong)_file.SizePages)
        {
            OutOfRange++;
            return;
        }

        Replayed++;
        switch (e.Kind)
        {
            case SimEventKind.Fault:
                if (_file.Kind == FileKind.GuestMemfd)
                {
                    _context.GuestRuns(cpu, index);
                }

                PathResult r = _file.Kind == FileKind.Secretmem ? k.SecretmemFault(cpu, _file, index) : k.GmemGetPfn(cpu, _file, index);
                _context.RecordFault(cpu, r.LatencyNs);
                _context.Emit(cpu, SimEventKind.Fault, r.Pfn, index);
                break;
            case SimEventKind.PopulatePage:
                _context.Populate(cpu, _file, index, _context.Config.Populate);
                break;
            default:
                if (_file.Kind == FileKind.GuestMemfd)
                {
                    k.GmemPunchHole(cpu, _file, index, Math.Min(e.Extra, _file.SizePages - index));
                }

                break;
        }
    }

    private sealed class ReplayActor(int cpu, SimEvent[] events, ReplayWorkload workload) : Actor(cpu)
    {
        private int _next;

        /// <summary>A CPU that replays guest_memfd faults runs a vCPU, as when it was recorded.</summary>
        public override CpuRole Role => workload.IsGuestFault(in events[0]) ? CpuRole.Vcpu : CpuRole.Host;

        public override bool NextStepIsLocal(SimContext context) =>
            _next < events.Length && workload.IsLocalFault(Cpu, in events[_next]);

        public override bool Step(SimContext context)
        {
            workload.Perform(Cpu, in events[_next++]);
            return _next < events.Length;
        }
    }
}
