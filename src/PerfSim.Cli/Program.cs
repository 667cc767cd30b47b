namespace PerfSim.Cli;

internal static class Program
{
    private static int Main(string[] args) =>
        CommandLine.Run(args, Console.In, !Console.IsInputRedirected, Console.Out, Console.Error, !Console.IsErrorRedirected);
}
