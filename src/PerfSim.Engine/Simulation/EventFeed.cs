using PerfSim.Core.Events;
using PerfSim.Core.Kernel;
using PerfSim.Tracing;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// Where a run's events and totals go. Events: to the recorder (a binary trace) if any, and to the
/// PerfSim EventSource while a session listens; nowhere otherwise, so the kernel's event sites cost
/// one null check. Totals: to a published <see cref="SimulationMetrics"/>, in batches.
/// </summary>
/// <remarks>The engine calls <see cref="RefreshIfDue"/> after every quantum (so about every
/// <see cref="StepsPerRefresh"/> steps) and <see cref="Refresh"/> at
/// the end of every phase: a session attached mid-run (dotnet-trace -p) is picked up within that many
/// steps, and the metrics never cost more than one counter sweep per refresh.</remarks>
internal sealed class EventFeed(SimKernel kernel, ISimEventSink? recorder)
{
    /// <summary>Steps between refreshes (a power of two: the check is a mask).</summary>
    public const int StepsPerRefresh = 4096;

    private readonly ISimEventSink? _both = recorder is null ? null : new Tee(recorder, PerfSimEventSource.Log);
    private long _faults;
    private long _ipis;
    private long _splits;
    private long _refreshedAtStep;

    public SimulationMetrics Metrics { get; } = new();

    /// <summary>Refreshes when <see cref="StepsPerRefresh"/> steps ran since the last refresh here.</summary>
    public void RefreshIfDue(long steps)
    {
        if (steps - _refreshedAtStep >= StepsPerRefresh)
        {
            _refreshedAtStep = steps;
            Refresh();
        }
    }

    /// <summary>Re-routes events for the listeners present now and brings the metrics up to date.</summary>
    public void Refresh()
    {
        kernel.EventSink = PerfSimEventSource.Log.IsEnabled() ? _both ?? PerfSimEventSource.Log : recorder;

        KernelCounters c = kernel.TotalCounters();
        long faults = c.Faults + c.UserFaults;
        long ipis = kernel.Host.TotalCounters().IpisSent;
        long splits = kernel.DirectMap.Level2Splits + kernel.DirectMap.Level3Splits;
        Metrics.AddFaults(faults - _faults);
        Metrics.AddIpis(ipis - _ipis);
        Metrics.AddSplits(splits - _splits);
        Metrics.SetDirectMap4kKb(kernel.DirectMap.Counts.DirectMap4k);
        (_faults, _ipis, _splits) = (faults, ipis, splits);
    }

    private sealed class Tee(ISimEventSink first, ISimEventSink second) : ISimEventSink
    {
        public void Emit(in SimEvent e)
        {
            first.Emit(in e);
            second.Emit(in e);
        }
    }
}
