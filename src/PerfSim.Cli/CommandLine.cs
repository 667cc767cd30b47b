using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using PerfSim.Cli.Commands;
using PerfSim.Reporting.Input;

namespace PerfSim.Cli;

/// <summary>
/// <c>perfsim COMMAND [options]</c> on System.CommandLine: it tokenises (response files
/// <c>@FILE</c> included), prints help and the version, and completes words for shells
/// (<c>perfsim completion</c>). Values stay strings until the command reads them through
/// <see cref="OptionSet"/>, so every range check is the field table's. Bad input becomes one line
/// on standard error and exit code 2, never a stack trace.
/// </summary>
internal static class CommandLine
{
    public const string Description = "perfsim: what the Linux direct map costs, simulated.";

    public static int Run(string[] args, TextReader stdin, bool stdinIsTerminal, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        using IDisposable stdinScope = InputFile.UseStandardInput(stdin);
        var console = new Console(stdin, stdinIsTerminal, stdout, stderr, stderrIsTerminal);
        RootCommand root = Build(console);
        // No command at all: show what there is (a question, not an error).
        ParseResult parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Action is ParseErrorAction)
        {
            return BadInput(stderr, ParseErrorLine(parse));
        }

        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    /// <summary>The standard streams, as the commands see them (tests pass their own).</summary>
    internal sealed record Console(TextReader In, bool InIsTerminal, TextWriter Out, TextWriter Error, bool ErrorIsTerminal);

    /// <summary>The whole command tree; each command's action reads its options and calls its body.</summary>
    public static RootCommand Build(Console io)
    {
        var root = new RootCommand(Description);
        IReadOnlyList<CommandSpec> specs = CommandSpecs.Create();
        foreach (CommandSpec spec in specs)
        {
            var command = new Command(spec.Name, spec.Description);
            foreach (Option option in spec.Options)
            {
                command.Options.Add(option);
            }

            if (spec.Arguments is { } arguments)
            {
                command.Arguments.Add(arguments);
            }

            command.SetAction(parse => Guarded(io.Error, () => spec.Body(new OptionSet(spec, parse), io)));
            root.Subcommands.Add(command);
        }

        // Help with each command's examples under the usual sections.
        foreach (Option option in root.Options)
        {
            if (option is HelpOption help && help.Action is HelpAction action)
            {
                help.Action = new HelpWithExamples(action, specs);
            }
        }

        return root;
    }

    private static int Guarded(TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (InputException e)
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

    /// <summary>The first parse error as one line in PerfSim's words: the option or command, what
    /// is wrong, and the closest known name when the word looks like a typo.</summary>
    private static string ParseErrorLine(ParseResult parse)
    {
        Command command = parse.CommandResult.Command;
        string name = command is RootCommand ? "perfsim" : "perfsim " + command.Name;
        foreach (ParseError error in parse.Errors)
        {
            if (error.SymbolResult is OptionResult { Option: var option } result)
            {
                return result.IdentifierTokenCount > 1 ? $"{option.Name}: given twice"
                    : result.Tokens.Count == 0 ? $"{option.Name}: missing value"
                    : $"{option.Name}: {error.Message}";
            }
        }

        string? unmatched = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;
        if (unmatched is null)
        {
            return $"{name}: {parse.Errors[0].Message}";
        }

        if (command is RootCommand)
        {
            string[] commands = [.. command.Subcommands.Select(c => c.Name)];
            return unmatched.StartsWith('-')
                ? $"perfsim: unknown option {unmatched}{Suggest(unmatched, ["--help", "--version"])}; give a command first: {string.Join(", ", commands)} (perfsim --help)"
                : $"perfsim: unknown command '{unmatched}'{Suggest(unmatched, commands)}; accepted: {string.Join(", ", commands)} (perfsim --help)";
        }

        if (!unmatched.StartsWith('-'))
        {
            return $"{name}: unexpected argument '{unmatched}'; options start with -- ({name} --help)";
        }

        string word = unmatched.Split('=', 2)[0];
        IEnumerable<string> known = command.Options.Select(o => o.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal));
        return $"{name}: unknown option {word}{Suggest(word, known)}; {name} --help lists every option";
    }

    /// <summary>" (did you mean --cpus?)" when one known name is within a small edit distance.</summary>
    internal static string Suggest(string word, IEnumerable<string> known)
    {
        string? best = known
            .Select(k => (Name: k, Distance: EditDistance(word, k)))
            .Where(k => k.Distance <= Math.Max(2, k.Name.Length / 4))
            .OrderBy(k => k.Distance)
            .ThenBy(k => k.Name, StringComparer.Ordinal)
            .Select(k => k.Name)
            .FirstOrDefault();
        return best is null ? string.Empty : $" (did you mean {best}?)";
    }

    private static int EditDistance(string a, string b)
    {
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        for (int i = 1; i <= a.Length; i++)
        {
            int[] current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            previous = current;
        }

        return previous[b.Length];
    }

    /// <summary>The library's help, then the command's examples.</summary>
    private sealed class HelpWithExamples(HelpAction help, IReadOnlyList<CommandSpec> specs) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = help.Invoke(parseResult);
            Command command = parseResult.CommandResult.Command;
            IReadOnlyList<string> examples = command is RootCommand
                ? CommandSpecs.RootExamples
                : specs.FirstOrDefault(s => s.Name == command.Name)?.Examples ?? [];
            TextWriter output = parseResult.InvocationConfiguration.Output;
            if (examples.Count > 0)
            {
                output.WriteLine("Examples:");
                foreach (string example in examples)
                {
                    output.WriteLine("  " + example);
                }

                output.WriteLine();
            }

            if (command is RootCommand)
            {
                output.WriteLine("Exit codes: 0 ok, 1 invariant violations found (compare: a regression), 2 bad input.");
            }

            return code;
        }
    }
}
