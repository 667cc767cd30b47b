using PerfSim.Core.Events;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Output;
using PerfSim.Tracing.Files;

namespace PerfSim.Cli.Commands;

/// <summary>Output files of the tracing commands, written whole or not at all: into a temporary
/// <c>.FILE.PID-RANDOM.partial</c> beside FILE, moved over FILE only once complete.</summary>
internal static class TraceFiles
{
    /// <summary>The engine emits from one thread: a 32 MiB ring absorbs a slow disk for about a million
    /// events before the writer drops (and counts) instead of stalling the simulation.</summary>
    private const int RecordRingEvents = 1 << 20;

    /// <summary>Runs <paramref name="run"/> with a binary-trace writer on <paramref name="path"/>
    /// (<c>--record</c>), or with no sink when the path is null; reports drops on standard error.</summary>
    public static RunResult Record(string? path, ScenarioConfig config, TextWriter stderr, Func<ISimEventSink?, RunResult> run)
    {
        if (path is null)
        {
            return run(null);
        }

        string? summary = null;
        RunResult recorded = Atomically(path, "--record", partial =>
        {
            var writer = new BinaryTraceWriter(new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None), new BinaryTraceWriterOptions
            {
                RunConfigJson = ScenarioFields.ToJson(config),
                EventsPerThread = RecordRingEvents,
            });
            RunResult result;
            try
            {
                result = run(writer);
            }
            finally
            {
                // Drains and writes the end marker (with the drop count) whether or not the run finished.
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            string drops = writer.Drops == 0 ? "no drops" : $"{writer.Drops} events DROPPED (the output fell behind)";
            summary = $"perfsim: recorded {writer.Written} events, {new FileInfo(partial).Length} bytes, to {path}; {drops}";
            return result;
        });

        // Only once the trace is in place.
        stderr.WriteLine(summary);
        return recorded;
    }

    /// <summary>Calls <paramref name="write"/> with a temporary path beside <paramref name="path"/>
    /// (unique to this process and call), then renames it to <paramref name="path"/>; deletes it if
    /// anything fails. An interrupt (<see cref="Interrupts"/>) removes it too.</summary>
    public static T Atomically<T>(string path, string option, Func<string, T> write)
    {
        string partial = TempFiles.Beside(path, ".partial");
        try
        {
            T result = write(partial);
            TempFiles.Commit(() => File.Move(partial, path, overwrite: true));
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InputException($"{option}: cannot write '{path}': {e.Message}");
        }
        finally
        {
            TempFiles.Delete(partial);
        }
    }
}
