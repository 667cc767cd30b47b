using PerfSim.Cli.Output;
using PerfSim.Reporting;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Cli.Commands;

/// <summary>
/// <c>perfsim merge OUT_DIR SHARD...</c> (or <c>--out OUT_DIR SHARD...</c>): joins the shards of
/// a sweep, each a <c>sweep.json</c> or the directory holding one, into the bundle an unsharded
/// sweep writes. <see cref="SweepMerge"/> refuses different matrices and missing or duplicate runs.
/// </summary>
internal static class MergeCommand
{
    public static int Run(OptionSet options, TextWriter stdout, TextWriter stderr)
    {
        List<string> inputs = [.. options.Positionals];
        string? outDir = options.String("out");
        if (outDir is null && inputs.Count > 0)
        {
            outDir = inputs[0];
            inputs.RemoveAt(0);
        }

        if (outDir is null || inputs.Count == 0)
        {
            throw new InputException("perfsim merge: give an output directory and at least one shard: perfsim merge OUT_DIR SHARD_DIR_OR_FILE...");
        }

        Reporting.Output.OutputTarget.CheckDirectory(outDir, options.Has("out") ? "--out" : "OUT_DIR");
        string[] files = [.. inputs.Select(i => Directory.Exists(i) ? Path.Combine(i, ReportBundle.SweepJsonFile) : i)];
        string outFull = Path.GetFullPath(outDir);
        string? clash = files.FirstOrDefault(f => string.Equals(Path.GetDirectoryName(Path.GetFullPath(f)), outFull, StringComparison.Ordinal));
        if (clash is not null)
        {
            throw new InputException($"perfsim merge: the output directory {outDir} holds the input {clash}; merge into a new directory");
        }

        SweepReport merged = SweepMerge.MergeFiles(files);
        Written.Bundle(stderr, outDir, dir => ReportBundle.Write(dir, merged));
        stdout.Write(SweepRenderer.Render(merged, RunCommand.Format(options)));
        return ExitCodes.Ok;
    }
}
