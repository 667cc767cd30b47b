using System.Diagnostics.Metrics;

namespace PerfSim.Tracing;

/// <summary>
/// Running totals a simulation publishes to the PerfSim EventCounters and to the
/// <c>Meter("PerfSim")</c> instruments. Thread-safe; the engine should add in batches (per tick or
/// per 1000 events), not per event, so the counters never contend with the simulation.
/// </summary>
/// <remarks>
/// One instance is published at a time (<see cref="Publish"/>). When its publication is disposed
/// its final values stay published until the next <see cref="Publish"/> or the process exits, so a
/// session that is still listening when a run ends (dotnet-counters, or <c>perfsim trace</c>'s own
/// session, which stops after the run) reads the run's totals, never zeros. Counters read zeros
/// only before the first publication. That is process-wide state, like the EventSource it feeds.
/// </remarks>
public sealed class SimulationMetrics
{
    /// <summary>EventCounter name: faults, shown as a rate per second.</summary>
    public const string FaultsPerSecondName = "faults-per-second";

    /// <summary>EventCounter name: TLB shootdown IPIs, shown as a rate per second.</summary>
    public const string IpisPerSecondName = "ipis-per-second";

    /// <summary>EventCounter name: 2M and 1G direct-map splits so far.</summary>
    public const string SplitsName = "splits";

    /// <summary>EventCounter name: kB of the direct map mapped with 4K pages (like /proc/meminfo DirectMap4k).</summary>
    public const string DirectMap4kKbName = "directmap-4k-kb";

    /// <summary>Meter instrument (OpenTelemetry naming): faults so far, unit <c>{fault}</c>; tools compute the rate.</summary>
    public const string FaultsInstrument = "perfsim.faults";

    /// <summary>Meter instrument: TLB shootdown IPIs sent so far, unit <c>{ipi}</c>.</summary>
    public const string IpisInstrument = "perfsim.ipis";

    /// <summary>Meter instrument: 2M and 1G direct-map splits so far, unit <c>{split}</c>.</summary>
    public const string SplitsInstrument = "perfsim.direct_map.splits";

    /// <summary>Meter instrument: the 4K-mapped part of the direct map now, unit <c>KiBy</c> (meminfo's "kB" are KiB).</summary>
    public const string DirectMap4kInstrument = "perfsim.direct_map.4k";

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
    /// Makes this instance the one the counters and instruments read. Disposing the returned handle
    /// freezes the values published at that moment (see the remarks); a later <see cref="Publish"/>
    /// replaces them.
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

    private SimulationMetrics Frozen()
    {
        var copy = new SimulationMetrics();
        copy._faults = Faults;
        copy._ipis = Ipis;
        copy._splits = Splits;
        copy._directMap4kKb = DirectMap4kKb;
        return copy;
    }

    private sealed class Publication(SimulationMetrics metrics) : IDisposable
    {
        // Replacing the run by zeros here was a race: a counter poll between the end of the run and
        // the end of the listening session published zeros as the last values. A frozen copy keeps
        // the totals, and later updates to the disposed instance stay invisible.
        public void Dispose() => Interlocked.CompareExchange(ref s_published, metrics.Frozen(), metrics);
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
        // Counters are cumulative totals; the Metrics provider and dotnet-counters turn them into
        // rates per RefreshInterval, so no instrument is a rate itself (OpenTelemetry conventions).
        Counter(meter, SimulationMetrics.FaultsInstrument, m => m.Faults, "{fault}", "Simulated page faults completed");
        Counter(meter, SimulationMetrics.IpisInstrument, m => m.Ipis, "{ipi}", "TLB shootdown IPIs sent");
        Counter(meter, SimulationMetrics.SplitsInstrument, m => m.Splits, "{split}", "Direct-map splits (2M to 4K and 1G to 2M)");
        meter.CreateObservableGauge(
            SimulationMetrics.DirectMap4kInstrument, () => SimulationMetrics.Poll("meter:" + SimulationMetrics.DirectMap4kInstrument).DirectMap4kKb, "KiBy",
            "Direct map mapped with 4K pages (/proc/meminfo DirectMap4k)");
        return meter;
    }

    private static void Counter(Meter meter, string name, Func<SimulationMetrics.Snapshot, long> pick, string unit, string description) =>
        meter.CreateObservableCounter(name, () => pick(SimulationMetrics.Poll("meter:" + name)), unit, description);
}
