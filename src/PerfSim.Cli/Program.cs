namespace PerfSim.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        using IDisposable interrupts = Commands.Interrupts.Install(Console.Error);
        return CommandLine.Run(args, Console.In, !Console.IsInputRedirected, Console.Out, Console.Error, !Console.IsErrorRedirected);
    }
}
