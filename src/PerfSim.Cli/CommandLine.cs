using PerfSim.Cli.Commands;
using PerfSim.Engine.Inputs;

namespace PerfSim.Cli;

/// <summary>Dispatches <c>perfsim COMMAND [options]</c>. Bad input becomes one line on standard
/// error and exit code 2, never a stack trace.</summary>
internal static class CommandLine
{
    public const string Help = """
        perfsim: what the Linux direct map costs, simulated.

        Commands:
          run          run a scenario, print its summary, write DIR/report.json, report.md and charts
          sweep        run a matrix of configurations (or one shard of it), write DIR/sweep.json, report.csv, report.md and charts
          merge        join the shards of a sweep into the bundle an unsharded sweep writes
          compare      compare two reports, sweeps or BenchmarkDotNet full JSON files; exit 1 on a regression
          scenarios    list the built-in scenarios
          directmap    apply a script of direct-map operations to a host and print the result
          trace        run a scenario inside an EventPipe session, write FILE.nettrace, summarise it
          replay       re-run a recorded or converted trace, possibly under another strategy or arch

        Usage:
          perfsim run [--scenario NAME|FILE] [--strategy none|per-folio|per-folio-v12|filemap|unmapped-alloc]
                      [--arch x86_64|x86_64-invlpgb|arm64|arm64-bbml2] [--cpus N] [--vcpus V]
                      [--ram SIZE|--e820 FILE|--meminfo FILE] [--guest-memory SIZE] [--pages N] [--passes K]
                      [--threads T] [--seed S] [--populate PATH] [--cost-profile FILE] [--out DIR]
                      [--format text|json|markdown|csv] [--repeat N] [--no-report] [--record FILE]
          perfsim sweep (--matrix FILE | --vary KEY=V1,V2,... [--vary ...]) [--shard I/N] [run options] [--out DIR]
          perfsim merge OUT_DIR SHARD_DIR_OR_FILE... [--format text|json|markdown|csv]
          perfsim compare BASELINE CURRENT [--threshold 5%] [--metric GLOB]... [--noise 1ns] [--out FILE.md] [--format text|markdown]
          perfsim trace [run options but --format, --record, --repeat] --out FILE.nettrace
          perfsim replay FILE [run options]      (options override the configuration recorded in FILE)
          perfsim scenarios
          perfsim directmap [--ram SIZE | --e820 FILE | --meminfo FILE] [--arch ARCH] [--gbpages on|off] [--rodata full|off] [--script FILE] [--json]

        Exit codes: 0 ok, 1 invariant violations found (compare: a regression), 2 bad input.
        """;

    public static int Run(string[] args, TextReader stdin, bool stdinIsTerminal, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.Write(Help);
            return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
        }

        string[] rest = args[1..];
        using IDisposable stdinScope = InputFile.UseStandardInput(stdin);
        try
        {
            return args[0] switch
            {
                "run" => RunCommand.Run(rest, stdout, stderr, stderrIsTerminal),
                "sweep" => SweepCommand.Run(rest, stdout, stderr, stderrIsTerminal),
                "merge" => MergeCommand.Run(rest, stdout),
                "compare" => CompareCommand.Run(rest, stdout),
                "scenarios" => ScenariosCommand.Run(rest, stdout),
                "directmap" => DirectMapCommand.Run(rest, stdin, stdinIsTerminal, stdout),
                "trace" => TraceCommand.Run(rest, stdout),
                "replay" => ReplayCommand.Run(rest, stdout, stderr),
                _ => throw new InputException($"perfsim: unknown command '{args[0]}'; accepted: run, sweep, merge, compare, scenarios, directmap, trace, replay (perfsim --help)"),
            };
        }
        catch (InputException e)
        {
            return BadInput(stderr, e.Message);
        }
        catch (Reporting.Input.InputException e)
        {
            return BadInput(stderr, e.Message);
        }
    }

    /// <summary>One line on standard error, always starting "perfsim: " or "perfsim COMMAND: ".</summary>
    private static int BadInput(TextWriter stderr, string message)
    {
        string line = Tracing.Files.Echo.Printable(message.Replace("perfsim: ", string.Empty, StringComparison.Ordinal));
        stderr.WriteLine(line.StartsWith("perfsim ", StringComparison.Ordinal) ? line : "perfsim: " + line);
        return ExitCodes.BadInput;
    }
}
