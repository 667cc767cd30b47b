using System.Globalization;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;
using PerfSim.Reporting.Rendering;
using PerfSim.Tracing.Files;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim replay FILE [run options]</c>: re-run a recorded (binary) or converted (text)
/// workload under its recorded configuration, changed by the options; report as <c>perfsim run</c>.</summary>
internal static class ReplayCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new InputException("perfsim replay: missing FILE (a binary trace from perfsim run --record, or a text trace); perfsim replay FILE [run options]");
        }

        string path = args[0];
        OptionSet options = OptionSet.Parse("replay", args.Skip(1).ToList(), RunCommand.Valued.Except(["repeat", "record"]), ["no-report", "allow-large-memory"]);
        Stream stream = Reporting.Input.InputFiles.OpenRead(path, Reporting.Input.InputKind.Trace);
        path = Reporting.Input.InputFiles.NameOf(path);
        try
        {
            return Replay(path, stream, options, stdout, stderr).GetAwaiter().GetResult();
        }
        catch (TraceFormatException e)
        {
            throw new InputException($"{path}: {e.Message}");
        }
    }

    private static async Task<int> Replay(string path, Stream stream, OptionSet options, TextWriter stdout, TextWriter stderr)
    {
        await using TraceInput trace = await TraceInput.OpenAsync(stream).ConfigureAwait(false);
        (ScenarioConfig config, HostSpec? host, string hostSource) = RunCommand.Resolve(options, defaults: ReplayRun.RecordedConfig(trace, path));
        ConsoleFormat format = options.Choice("format", ["text", "json", "markdown", "csv"], "text") switch
        {
            "json" => ConsoleFormat.Json,
            "markdown" => ConsoleFormat.Markdown,
            "csv" => ConsoleFormat.Csv,
            _ => ConsoleFormat.Text,
        };
        string outDir = options.String("out") ?? RunCommand.DefaultOut;
        Outputs.Check(options, outDir, options.String("record"));

        ReplayStats? stats = null;
        RunResult result = TraceFiles.Record(options.String("record"), config, stderr, sink =>
        {
            ReplayResult replay = ReplayRun.ExecuteAsync(trace, config, host, sink).GetAwaiter().GetResult();
            stats = replay.Stats;
            return replay.Run;
        });
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"perfsim: replayed {path} ({(trace.IsBinary ? "binary" : "text")}): {stats!.Events} events, {stats.Replayed} replayed, {stats.Ignored} consequences/markers ignored, {stats.OutOfRange} out of the file's range; {stats.Bytes} bytes in {stats.WallSeconds:F2} s ({stats.MegabytesPerSecond:F1} MB/s){(stats.Drops > 0 ? $"; the recording DROPPED {stats.Drops} events" : string.Empty)}"));

        RunReport report = ReportMapper.ToReport(result, hostSource);
        if (!options.Has("no-report"))
        {
            ReportBundle.Write(outDir, report);
        }

        stdout.Write(ReportRenderer.Render(report, format));
        return result.Violations.Count > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }
}
