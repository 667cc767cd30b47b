namespace PerfSim.Fuzz.Tests;

/// <summary>The CLI in-process, output captured.</summary>
internal static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            int code = PerfSim.Cli.CommandLine.Run(args, new StringReader(string.Empty), stdinIsTerminal: false, stdout, stderr);
            return (code, stdout.ToString(), stderr.ToString());
        }
#pragma warning disable CA1031 // The fuzzer records any escaped exception as a finding and goes on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return (-1, stdout.ToString(), $"unhandled {e.GetType().Name}: {e.Message} at {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("PerfSim", StringComparison.Ordinal))?.Trim()}");
        }
    }
}
