using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace PerfSim.Tracing;

/// <summary>What an <see cref="EventPipeRecorder"/> recording wrote.</summary>
/// <param name="Path">The .nettrace file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Duration">Wall time from session start to the end of the copy.</param>
public sealed record EventPipeRecording(string Path, long Bytes, TimeSpan Duration);

/// <summary>Options for <see cref="EventPipeRecorder"/>. The defaults record everything PerfSim publishes.</summary>
public sealed record EventPipeRecorderOptions
{
    /// <summary>EventPipe's in-process buffer. Events are dropped by the runtime when it fills,
    /// so it is sized for bursts of millions of events between drains.</summary>
    public int CircularBufferMB { get; init; } = 256;

    /// <summary>EventCounter and Meter publishing interval, in seconds.</summary>
    public int CounterIntervalSec { get; init; } = 1;

    /// <summary>Also record the <c>Meter("PerfSim")</c> instruments through System.Diagnostics.Metrics.</summary>
    public bool IncludeMeter { get; init; } = true;

    /// <summary>Level for the PerfSim provider; Verbose includes the per-page events.</summary>
    public EventLevel Level { get; init; } = EventLevel.Verbose;

    /// <summary>Keyword mask for the PerfSim provider. Always explicit: see the EventSource remarks.</summary>
    public long Keywords { get; init; } = -1;
}

/// <summary>
/// Records this process's PerfSim events into a .nettrace file with a real EventPipe session
/// (the same mechanism dotnet-trace uses), around a caller-supplied simulation.
/// </summary>
public static class EventPipeRecorder
{
    /// <summary>Provider name of the runtime's System.Diagnostics.Metrics bridge.</summary>
    public const string MetricsProviderName = "System.Diagnostics.Metrics";

    /// <summary>The providers a recording enables, also usable with dotnet-trace
    /// (<see cref="ProviderString"/> prints them in its syntax).</summary>
    public static IReadOnlyList<EventPipeProvider> Providers(EventPipeRecorderOptions options, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(options);
        string interval = options.CounterIntervalSec.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var providers = new List<EventPipeProvider>
        {
            new(PerfSimEventSource.ProviderName, options.Level, options.Keywords,
                new Dictionary<string, string> { ["EventCounterIntervalSec"] = interval }),
        };
        if (options.IncludeMeter)
        {
            // 0x3 = Messages | TimeSeriesValues. SessionId tells our session's events from another
            // listener's (the bridge serves one session at a time).
            providers.Add(new(MetricsProviderName, EventLevel.Informational, 0x3, new Dictionary<string, string>
            {
                ["SessionId"] = sessionId,
                ["Metrics"] = SimulationMetrics.MeterName,
                ["RefreshInterval"] = interval,
                ["MaxTimeSeries"] = "1000",
                ["MaxHistograms"] = "10",
            }));
        }

        return providers;
    }

    /// <summary>The same providers in dotnet-trace's <c>--providers</c> syntax.</summary>
    public static string ProviderString(EventPipeRecorderOptions options, string sessionId) =>
        string.Join(",", Providers(options, sessionId).Select(p =>
            FormattableString.Invariant($"{p.Name}:0x{p.Keywords:X16}:{(int)p.EventLevel}:")
            + string.Join(";", p.Arguments!.Select(a => a.Key + "=" + a.Value))));

    /// <summary>
    /// Starts a session on this process, streams it to <paramref name="path"/> on a background
    /// task, runs <paramref name="simulation"/>, then stops the session and waits for the file.
    /// </summary>
    /// <remarks>The session stops even when the simulation throws; the exception then propagates.
    /// Events written before the simulation returns are in the file: stopping flushes EventPipe's buffers.</remarks>
    public static async Task<EventPipeRecording> RecordAsync(
        string path,
        Func<CancellationToken, Task> simulation,
        EventPipeRecorderOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(simulation);
        options ??= new EventPipeRecorderOptions();

        var stopwatch = Stopwatch.StartNew();
        // A pid, never GetPublishedProcesses(): enumerating crashes on this kind of host.
        var client = new DiagnosticsClient(Environment.ProcessId);
        string sessionId = "perfsim-" + Guid.NewGuid().ToString("N");
        using EventPipeSession session = await client.StartEventPipeSessionAsync(
            Providers(options, sessionId), requestRundown: false, options.CircularBufferMB, cancellationToken).ConfigureAwait(false);

        Task copy;
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true))
        {
            // The copy must start now: the runtime stalls the session if nobody drains the stream.
            copy = Task.Run(() => session.EventStream.CopyToAsync(file, CancellationToken.None), CancellationToken.None);
            try
            {
                await simulation(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await session.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await copy.ConfigureAwait(false);
            }
        }

        return new EventPipeRecording(path, new FileInfo(path).Length, stopwatch.Elapsed);
    }

    /// <summary>Synchronous-simulation overload of <see cref="RecordAsync(string, Func{CancellationToken, Task}, EventPipeRecorderOptions?, CancellationToken)"/>.</summary>
    public static Task<EventPipeRecording> RecordAsync(string path, Action simulation, EventPipeRecorderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(simulation);
        return RecordAsync(path, _ => { simulation(); return Task.CompletedTask; }, options, cancellationToken);
    }
}
