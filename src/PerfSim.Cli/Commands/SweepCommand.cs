using System.Globalization;
using PerfSim.Cli.Output;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Rendering;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Cli.Commands;

/// <summary>
/// <c>perfsim sweep</c>: runs every configuration of a matrix (or one shard of it) and writes
/// <c>DIR/sweep.json</c>, <c>report.csv</c>, <c>report.md</c> and charts in one atomic step.
/// </summary>
/// <remarks>
/// Runs are numbered in the canonical cartesian order (first axis slowest); <c>--shard i/n</c>
/// takes the ordinals with <c>ordinal % n == i - 1</c>. Round-robin rather than contiguous
/// blocks because the first axis is often the expensive one (256 CPUs, big guests): blocks
/// would give one shard all the slow runs.
/// </remarks>
internal static class SweepCommand
{
    public const string DefaultOut = "perfsim-sweep";

    public static int Run(OptionSet options, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        options.Exclusive("matrix", "vary");
        SweepMatrix matrix = options.Has("matrix") ? SweepMatrix.FromFile(options.String("matrix")!)
            : options.Has("vary") ? SweepMatrix.FromOptions(options.Strings("vary"))
            : throw new InputException("perfsim sweep: give --matrix FILE or --vary KEY=V1,V2,... (repeatable), e.g. --vary strategy=none,per-folio --vary cpus=8,64");
        foreach (MatrixAxis axis in matrix.Axes)
        {
            if (options.Has(axis.Name))
            {
                throw new InputException($"--{axis.Name}: also varied by {matrix.Source}; give it in one place");
            }

            if (axis.Name == "ram" && (options.Has("e820") || options.Has("meminfo")))
            {
                throw new InputException($"{matrix.Source}: ram cannot be varied with --e820 or --meminfo, which fix the host's RAM");
            }
        }

        ShardInfo? shard = Shard(options.String("shard"), matrix.Size);
        ConsoleFormat format = RunCommand.Format(options);
        string outDir = options.String("out") ?? DefaultOut;
        Outputs.Check(options, outDir, record: null);

        // Check every run of the whole matrix first (values, host fit, memory): a bad combination
        // fails every shard the same way, before any simulation time is spent. Nothing is kept:
        // each run is resolved again when its turn comes.
        for (int ordinal = 0; ordinal < matrix.Size; ordinal++)
        {
            (string key, IReadOnlyList<FieldValue> fields) = matrix.Run(ordinal);
            RunCommand.Resolve(options, matrix.Base, fields, $"run {key}");
        }

        int[] ordinals = [.. Enumerable.Range(0, matrix.Size).Where(o => shard is null || o % shard.Count == shard.Index)];
        var runs = new List<SweepRun>(ordinals.Length);
        foreach (int ordinal in ordinals)
        {
            (string key, IReadOnlyList<FieldValue> fields) = matrix.Run(ordinal);
            (ScenarioConfig config, HostSpec? host, string hostSource) = RunCommand.Resolve(options, matrix.Base, fields, $"run {key}");
            string label = string.Create(CultureInfo.InvariantCulture, $"[{runs.Count + 1}/{ordinals.Length}] {key}");
            RunResult result;
            try
            {
                result = RunCommand.Execute(config, host, label, stderr, stderrIsTerminal);
            }
            catch (InputException e)
            {
                // Refusals found while running (e.g. the guest does not fit the host) name the run.
                throw new InputException($"run {key}: {e.Message}", e);
            }

            runs.Add(new SweepRun(key, ordinal, ReportMapper.ToReport(result, hostSource)));
        }

        var sweep = new SweepReport { Matrix = matrix.Axes, Shard = shard, Runs = runs };
        if (!options.Has("no-report"))
        {
            Written.Bundle(stderr, outDir, dir => ReportBundle.Write(dir, sweep));
        }

        stdout.Write(SweepRenderer.Render(sweep, format));
        return runs.Exists(r => r.Report.Violations is { Count: > 0 }) ? ExitCodes.Violation : ExitCodes.Ok;
    }

    /// <summary>Parses <c>i/n</c> (1-based i) into a 0-based <see cref="ShardInfo"/>; null when not given.</summary>
    private static ShardInfo? Shard(string? text, int runs)
    {
        if (text is null)
        {
            return null;
        }

        string[] parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && count <= runs && index >= 1 && index <= count)
        {
            return new ShardInfo(index - 1, count);
        }

        throw new InputException(string.Create(CultureInfo.InvariantCulture,
            $"--shard: '{text}' is not I/N with 1 <= I <= N <= {runs} (the number of runs in the matrix), e.g. --shard 2/4"));
    }
}
