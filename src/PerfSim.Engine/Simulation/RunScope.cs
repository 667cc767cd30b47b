using System.Diagnostics;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Events;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;
using PerfSim.Tracing;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// One run from start to result: the simulated kernel of the configured host, the actors' context
/// and the event loop; the PerfSim metrics published and the Run/Start and Run/Stop events written
/// around it. A scenario (<see cref="SimulationRun"/>) or a trace (<see cref="ReplayRun"/>) drives it.
/// </summary>
internal sealed class RunScope : IDisposable
{
    private readonly IDisposable _publication;
    private readonly DirectMapCounts _before;
    private readonly Stopwatch _wall = Stopwatch.StartNew();

    private RunScope(SimKernel kernel, ScenarioConfig config, ISimEventSink? recorder, Action<double>? progress)
    {
        Kernel = kernel;
        Context = new SimContext(kernel, config, recorder);
        Simulator = new Simulator(Context, progress);
        _before = kernel.DirectMap.Counts;
        _publication = Context.Feed.Metrics.Publish();
        Context.Feed.Refresh();
        if (PerfSimEventSource.Log.IsEnabled())
        {
            PerfSimEventSource.Log.RunStart(config.Scenario, config.Seed);
        }
    }

    public SimKernel Kernel { get; }

    public SimContext Context { get; }

    public Simulator Simulator { get; }

    public List<PassResult> Passes { get; } = [];

    public static RunScope Start(ScenarioConfig config, HostSpec? host, ISimEventSink? recorder, Action<double>? progress)
    {
        ArgumentNullException.ThrowIfNull(config);
        var kernel = new SimKernel(new KernelOptions
        {
            Cpus = config.Cpus,
            Arch = ArchProfile.For(config.Arch),
            Costs = config.Costs ?? CostProfile.Default(config.Arch),
            DirectMap = host?.Profile ?? SimulationRun.DirectMapProfileOf(config),
            Layout = host?.Layout ?? Core.Host.MemoryLayout.FromSize(config.RamBytes),
            BootPlan = host?.BootPlan,
            Strategy = config.Strategy,
            GuestFolioOrder = config.FolioOrder,
            FlushPolicy = config.FlushPolicy,
            Stage2Fwb = config.Stage2Fwb,
            WeaveDepth = config.WeaveDepth,
        });
        try
        {
            SimulationRun.CheckFits(config, kernel);
            return new RunScope(kernel, config, recorder, progress);
        }
        catch
        {
            kernel.Dispose();
            throw;
        }
    }

    /// <summary>Collects the result; the kernel stops sending events.</summary>
    public RunResult Finish()
    {
        _wall.Stop();
        Context.Feed.Refresh();
        Kernel.EventSink = null;
        SimKernel kernel = Kernel;
        ScenarioConfig config = Context.Config;
        List<KeyValuePair<string, long>> counters = Counters.Take(kernel);
        FinalState final = FinalState.Scan(kernel, config.Threads);
        int leakedIndex = counters.FindIndex(c => c.Key == "leaked_unmapped_frames");
        counters[leakedIndex] = new("leaked_unmapped_frames", final.LeakedUnmappedFrames);
        counters.AddRange(final.OwnerCounters(kernel.Frames.Layout.RamPages));
        long elapsed = Simulator.Now;
        if (PerfSimEventSource.Log.IsEnabled())
        {
            PerfSimEventSource.Log.RunStop(Simulator.Steps, elapsed);
        }

        return new RunResult
        {
            Config = config,
            Counters = counters,
            DirectMapBefore = _before,
            DirectMapAfter = kernel.DirectMap.Counts,
            FaultLatency = Context.Faults,
            PopulateLatency = Context.PopulatePages,
            FaultService = Context.FaultService,
            PopulateService = Context.PopulateService,
            ElapsedSimNs = elapsed,
            PopulatedBytes = Context.PopulatedBytes,
            Faults = counters[0].Value,
            WallSeconds = _wall.Elapsed.TotalSeconds,
            NativeBytes = kernel.NativeBytes,
            Frames = kernel.Frames.EndPfn,
            Digest = Digest.Compute(kernel, counters, Context.Faults, Context.PopulatePages, elapsed, final.FrameHash),
            Exposure = kernel.Flush.TotalExposure(),
            Passes = Passes,
            Violations = [.. kernel.Checker.Recorded.Select(v => v.ToString())],
        };
    }

    public void Dispose()
    {
        _publication.Dispose();
        Kernel.Dispose();
    }
}
