using System.Globalization;
using PerfSim.Cli.Output;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;
using PerfSim.Reporting;
using PerfSim.Reporting.Rendering;
using PerfSim.Tracing.Files;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim replay FILE [run options]</c>: re-run a recorded (binary) or converted (text)
/// workload under its recorded configuration, changed by the options; report as <c>perfsim run</c>.</summary>
internal static class ReplayCommand
{
    public static int Run(OptionSet options, TextWriter stdout, TextWriter stderr)
    {
        if (options.Positionals.Count != 1)
        {
            throw new InputException(options.Positionals.Count == 0
                ? "perfsim replay: missing FILE (a binary trace from perfsim run --record, or a text trace); perfsim replay FILE [run options]"
                : $"perfsim replay: unexpected argument '{options.Positionals[1]}'; perfsim replay FILE [run options]");
        }

        string path = options.Positionals[0];
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
            Written.Bundle(stderr, outDir, dir => ReportBundle.Write(dir, report));
        }

        stdout.Write(ReportRenderer.Render(report, format));
        return result.Violations.Count > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }
}
