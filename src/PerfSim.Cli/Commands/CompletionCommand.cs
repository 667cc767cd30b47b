using PerfSim.Reporting.Input;


namespace PerfSim.Cli.Commands;

/// <summary>
/// <c>perfsim completion bash|zsh</c>: a shell function that asks perfsim itself for completions
/// through System.CommandLine's <c>[suggest:POSITION]</c> directive, so commands, options and
/// choice values (strategies, architectures, formats) complete without the dotnet-suggest tool.
/// </summary>
internal static class CompletionCommand
{
    public const string Bash = """
        # perfsim completion for bash: source <(perfsim completion bash)
        _perfsim_complete() {
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$(perfsim "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _perfsim_complete perfsim

        """;

    public const string Zsh = """
        # perfsim completion for zsh: source <(perfsim completion zsh)
        _perfsim_complete() {
            local -a words
            words=("${(@f)$(perfsim "[suggest:${#${BUFFER[1,CURSOR]}}]" "$BUFFER" 2>/dev/null)}")
            compadd -a words
        }
        compdef _perfsim_complete perfsim

        """;

    public static int Run(OptionSet options, TextWriter stdout)
    {
        string? shell = options.Positionals.Count == 1 ? options.Positionals[0] : null;
        stdout.Write(shell switch
        {
            "bash" => Bash,
            "zsh" => Zsh,
            _ => throw new InputException($"perfsim completion: give one shell, bash or zsh (got {(shell is null ? options.Positionals.Count + " arguments" : $"'{shell}'")})"),
        });
        return ExitCodes.Ok;
    }
}
