using PerfSim.Reporting.Output;

namespace PerfSim.Cli.Commands;

/// <summary>The output paths of a simulating command, checked before it simulates anything.</summary>
internal static class Outputs
{
    /// <summary><c>--out DIR</c> (unless <c>--no-report</c>) and <c>--record FILE</c>.</summary>
    public static void Check(OptionSet options, string outDir, string? record)
    {
        if (!options.Has("no-report"))
        {
            OutputTarget.CheckDirectory(outDir, "--out");
        }

        if (record is not null)
        {
            OutputTarget.CheckFile(record, "--record");
        }
    }
}
