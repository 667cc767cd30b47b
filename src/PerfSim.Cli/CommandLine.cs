namespace PerfSim.Cli;

/// <summary>Dispatches <c>perfsim COMMAND [options]</c> to its command.</summary>
internal static class CommandLine
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        _ = args;
        _ = stdout;
        stderr.WriteLine("perfsim: no commands yet");
        return 2;
    }
}
