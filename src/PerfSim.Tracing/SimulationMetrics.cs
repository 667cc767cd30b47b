using System.Diagnostics.Metrics;

namespace PerfSim.Tracing;

/// <summary>
/// Running totals a simulation publishes to the PerfSim EventCounters and to the
/// <c>Meter("PerfSim")</c> instruments. Thread-safe; the engine should add in batches (per tick or
/// per 1000 events), not per event, so the counters never contend with the simulation.
/// </summary>
/// <remarks>
/// One instance is published at a time (<see cref="Publish"/>); counters read zeros when none is.
/// That is process-wide state, like the EventSource it feeds.
/// </remarks>
public sealed class SimulationMetrics
{
    /// <summary>EventCounter and instrument name: faults, shown as a rate per second.</summary>
    public const string FaultsPerSecondName = "faults-per-second";

    /// <summary>EventCounter and instrument name: TLB shootdown IPIs, shown as a rate per second.</summary>
    public const string IpisPerSecondName = "ipis-per-second";

    /// <summary>EventCounter and instrument name: 2M and 1G direct-map splits so far.</summary>
    public const string SplitsName = "splits";

    /// <summary>EventCounter and instrument name: kB of the direct map mapped with 4K pages (like /proc/meminfo DirectMap4k).</summary>
    public const string DirectMap4kKbName = "directmap-4k-kb";

    /// <summary>The meter name for System.Diagnostics.Metrics (<c>Metrics=PerfSim</c>).</summary>
    public const string MeterName = "PerfSim";

    private static SimulationMetrics? s_published;

    private long _faults;
    private long _ipis;
    private long _splits;
    private long _directMap4kKb;

    /// <summary>Adds <paramref name="count"/> completed faults.</summary>
    public void AddFaults(long count) => Interlocked.Add(ref _faults, count);

    /// <summary>Adds <paramref name="count"/> IPIs sent for TLB shootdowns.</summary>
    public void AddIpis(long count) => Interlocked.Add(ref _ipis, count);

    /// <summary>Adds <paramref name="count"/> direct-map splits (2M→4K and 1G→2M).</summary>
    public void AddSplits(long count) => Interlocked.Add(ref _splits, count);

    /// <summary>Sets the current size of the 4K-mapped part of the direct map, in kB.</summary>
    public void SetDirectMap4kKb(long kb) => Volatile.Write(ref _directMap4kKb, kb);

    /// <summary>Total faults so far.</summary>
    public long Faults => Volatile.Read(ref _faults);

    /// <summary>Total IPIs so far.</summary>
    public long Ipis => Volatile.Read(ref _ipis);

    /// <summary>Total splits so far.</summary>
    public long Splits => Volatile.Read(ref _splits);

    /// <summary>Current DirectMap4k in kB.</summary>
    public long DirectMap4kKb => Volatile.Read(ref _directMap4kKb);

    /// <summary>
    /// Makes this instance the one the counters and instruments read until the returned handle is
    /// disposed (a later <see cref="Publish"/> replaces it).
    /// </summary>
    public IDisposable Publish()
    {
        PerfSimMeter.EnsureCreated();
        Volatile.Write(ref s_published, this);
        return new Publication(this);
    }

    /// <summary>Test hook: called with the counter name each time a counter or instrument reads the metrics.</summary>
    internal static Action<string>? TestHookPolled { get; set; }

    /// <summary>What the counters read: the published instance's values, or zeros.</summary>
    internal static Snapshot Poll(string name)
    {
        SimulationMetrics? m = Volatile.Read(ref s_published);
        TestHookPolled?.Invoke(name);
        return m is null ? default : new Snapshot(m.Faults, m.Ipis, m.Splits, m.DirectMap4kKb);
    }

    internal readonly record struct Snapshot(long Faults, long Ipis, long Splits, long DirectMap4kKb);

    private sealed class Publication(SimulationMetrics metrics) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref s_published, null, metrics);
    }
}

/// <summary>The <c>Meter("PerfSim")</c> with observable instruments mirroring the EventCounters.</summary>
internal static class PerfSimMeter
{
    private static readonly Meter s_meter = Create();

    /// <summary>Forces the static initialiser, so the instruments exist before a listener looks.</summary>
    internal static void EnsureCreated() => GC.KeepAlive(s_meter);

    private static Meter Create()
    {
        var meter = new Meter(SimulationMetrics.MeterName);
        // Counters are cumulative; the Metrics provider turns them into rates per RefreshInterval.
        meter.CreateObservableCounter(SimulationMetrics.FaultsPerSecondName, () => SimulationMetrics.Poll("meter:" + SimulationMetrics.FaultsPerSecondName).Faults, "{fault}");
        meter.CreateObservableCounter(SimulationMetrics.IpisPerSecondName, () => SimulationMetrics.Poll("meter:" + SimulationMetrics.IpisPerSecondName).Ipis, "{ipi}");
        meter.CreateObservableCounter(SimulationMetrics.SplitsName, () => SimulationMetrics.Poll("meter:" + SimulationMetrics.SplitsName).Splits, "{split}");
        meter.CreateObservableGauge(SimulationMetrics.DirectMap4kKbName, () => SimulationMetrics.Poll("meter:" + SimulationMetrics.DirectMap4kKbName).DirectMap4kKb, "kB");
        return meter;
    }
}
