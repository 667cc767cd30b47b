using System.Globalization;
using Microsoft.Diagnostics.Tracing;

namespace PerfSim.Tracing;

/// <summary>
/// What a .nettrace file holds from PerfSim: event counts per PerfSim event name, and the last value
/// of every PerfSim EventCounter and Meter instrument seen. Used by tests and <c>perfsim trace</c>.
/// </summary>
public sealed class NettraceSummary
{
    private NettraceSummary(
        long totalEvents,
        IReadOnlyDictionary<string, long> perfSimEvents,
        IReadOnlyDictionary<string, double> eventCounters,
        IReadOnlyDictionary<string, double> meterInstruments)
    {
        TotalEvents = totalEvents;
        PerfSimEvents = perfSimEvents;
        EventCounters = eventCounters;
        MeterInstruments = meterInstruments;
    }

    /// <summary>How TraceEvent names <see cref="PerfSimEventSource.RunStart"/>: the EventSource infers
    /// task "Run" with opcode Start from the method name.</summary>
    public const string RunStartEventName = "Run/Start";

    /// <summary>How TraceEvent names <see cref="PerfSimEventSource.RunStop"/>.</summary>
    public const string RunStopEventName = "Run/Stop";

    /// <summary>Events of all providers in the file.</summary>
    public long TotalEvents { get; }

    /// <summary>PerfSim events by event name (the <see cref="PerfSim.Core.Events.SimEventKind"/> names,
    /// plus the run start/stop events), counter payloads excluded.</summary>
    public IReadOnlyDictionary<string, long> PerfSimEvents { get; }

    /// <summary>PerfSim EventCounters seen, with their last value (the increment for rate counters, the mean otherwise).</summary>
    public IReadOnlyDictionary<string, double> EventCounters { get; }

    /// <summary>Instruments of <c>Meter("PerfSim")</c> seen, with their last published value (rate for counters, value for gauges).</summary>
    public IReadOnlyDictionary<string, double> MeterInstruments { get; }

    /// <summary>Count of the PerfSim event <paramref name="eventName"/> (0 when absent).</summary>
    public long Count(string eventName) => PerfSimEvents.GetValueOrDefault(eventName);

    /// <summary>Reads <paramref name="path"/> with TraceEvent.</summary>
    public static NettraceSummary Read(string path)
    {
        long total = 0;
        var events = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var counters = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var instruments = new SortedDictionary<string, double>(StringComparer.Ordinal);

        using (var source = new EventPipeEventSource(path))
        {
            source.Dynamic.All += e =>
            {
                total++;
                if (e.ProviderName == PerfSimEventSource.ProviderName)
                {
                    if (e.EventName == "EventCounters")
                    {
                        ReadCounter(e, counters);
                    }
                    else
                    {
                        string name = e.EventName ?? "?";
                        events[name] = events.GetValueOrDefault(name) + 1;
                    }
                }
                else if (e.ProviderName == MetricsProvider && e.EventName?.EndsWith("ValuePublished", StringComparison.Ordinal) == true
                         && e.PayloadByName("meterName") as string == SimulationMetrics.MeterName
                         && e.PayloadByName("instrumentName") is string instrument)
                {
                    // Counters publish "rate" and (since .NET 8) the cumulative "value", gauges "lastValue";
                    // all invariant-culture strings, empty when unknown (the first rate).
                    string? value = (e.PayloadByName("value") ?? e.PayloadByName("lastValue") ?? e.PayloadByName("rate")) as string;
                    instruments[instrument] = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN;
                }
            };
            source.Process();
        }

        return new NettraceSummary(total, events, counters, instruments);
    }

    private const string MetricsProvider = EventPipeRecorder.MetricsProviderName;

    private static void ReadCounter(TraceEvent e, SortedDictionary<string, double> counters)
    {
        // TraceEvent shows an EventCounters event as one unnamed field holding { "Payload": { Name,
        // CounterType, Mean | Increment, ... } }.
        if (e.PayloadNames.Length == 1 && e.PayloadValue(0) is IDictionary<string, object> outer
            && outer.TryGetValue("Payload", out object? inner) && inner is IDictionary<string, object> payload
            && payload.TryGetValue("Name", out object? name) && name is string counter)
        {
            object? value = payload.TryGetValue("Increment", out object? inc) ? inc : payload.TryGetValue("Mean", out object? mean) ? mean : null;
            counters[counter] = value is null ? double.NaN : Convert.ToDouble(value, CultureInfo.InvariantCulture);
        }
    }
}
