using System.CommandLine;
using PerfSim.Cli.Commands;
using PerfSim.Core.Arch;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Simulation;

namespace PerfSim.Cli;

/// <summary>One command: its name, help, options, positional arguments, examples, and the body
/// that runs once the options are parsed.</summary>
internal sealed record CommandSpec(
    string Name, string Description, IReadOnlyList<Option> Options, Argument<string[]>? Arguments,
    Func<OptionSet, CommandLine.Console, int> Body, IReadOnlyList<string> Examples);

/// <summary>
/// Every command and option of <c>perfsim</c>. The scenario options are made from the field
/// table (<see cref="ScenarioFields.All"/>): name, value, description, default and completions.
/// Options carry no parser-side default: a command must see which options were given to layer
/// them over a scenario file or a trace's recorded configuration, so defaults are shown in help
/// and applied by the field table.
/// </summary>
internal static class CommandSpecs
{
    private static readonly string[] s_formats = ["text", "json", "markdown", "csv"];

    public static IReadOnlyList<string> RootExamples { get; } =
    [
        "perfsim run                                    the default guest boot (per-folio, x86_64, 64 CPUs)",
        "perfsim run --scenario secretmem-touch --cpus 2",
        "perfsim sweep --vary strategy=none,per-folio,filemap --vary cpus=4,8,16",
        "perfsim compare before/report.json after/report.json",
        "perfsim run @options.rsp                       read options from a response file, one per line",
        "perfsim run --help                             every option of a command, with its default",
    ];

    /// <summary>Fresh options for each command tree (an option belongs to one parse tree).</summary>
    public static IReadOnlyList<CommandSpec> Create() =>
    [
        new("run", "Run a scenario, print its summary, write DIR/report.json, report.md and charts.",
            [.. ScenarioOptions(), .. HostFileOptions(), CostProfile(), Out(RunCommand.DefaultOut, "directory for report.json, report.md and charts"),
                Format(s_formats), Repeat(), Record(), NoReport(), AllowLargeMemory()],
            null,
            (o, io) => RunCommand.Run(o, io.Out, io.Error, io.ErrorIsTerminal),
            [
                "perfsim run --strategy filemap --arch arm64",
                "perfsim run --scenario secretmem-touch --cpus 2 --pages 2048 --passes 4",
                "perfsim run --scenario my-scenario.json --cpus 128 --format json --no-report",
                "perfsim run --e820 dmesg-e820.txt --guest-memory 4G --record boot.pstrace",
            ]),
        new("sweep", "Run a matrix of configurations (or one shard of it); write DIR/sweep.json, report.csv, report.md and charts.",
            [.. ScenarioOptions(), .. HostFileOptions(), CostProfile(), Out(SweepCommand.DefaultOut, "directory for sweep.json, report.csv, report.md and charts"),
                Format(s_formats),
                Valued("matrix", "FILE", "a matrix file: {\"vary\": {FIELD: [V1, V2]}, \"base\": {FIELD: V}}"),
                Repeatable("vary", "FIELD=V1,V2,...", "a field and its values (repeatable; the first --vary varies slowest)"),
                Valued("shard", "I/N", "run only shard I of N (round-robin over the runs); join shards with perfsim merge"),
                NoReport(), AllowLargeMemory()],
            null,
            (o, io) => SweepCommand.Run(o, io.Out, io.Error, io.ErrorIsTerminal),
            [
                "perfsim sweep --vary strategy=none,per-folio,filemap --vary cpus=4,8,16",
                "perfsim sweep --matrix matrix.json --shard 2/4 --out shard2",
            ]),
        new("merge", "Join the shards of a sweep into the bundle an unsharded sweep writes.",
            [Out(null, "output directory (or give it as the first argument)"), Format(s_formats)],
            Positionals("OUT_DIR SHARD", "the output directory, then each shard's directory or sweep.json"),
            (o, io) => MergeCommand.Run(o, io.Out, io.Error),
            ["perfsim merge all shard1 shard2 shard3 shard4"]),
        new("compare", "Compare two reports, sweeps or BenchmarkDotNet full JSON files; exit 1 on a regression.",
            [
                Valued("threshold", "P%", "change that counts: wall figures need a significant change beyond it, simulated figures may move by up to it", "exact for simulated figures, 5% for wall figures"),
                Repeatable("metric", "GLOB", "compare only the matching metrics (repeatable), e.g. counters.* or latency_ns.fault.p99"),
                Valued("noise", "NS", "differences below this many ns count as the same", "1ns"),
                Valued("out", "FILE.md", "also write the comparison as markdown to FILE.md"),
                Format(["text", "markdown"]),
                Flag("only-changed", "list only the metrics that changed (Faster, Slower, Missing), not the Same ones"),
                Flag("allow-missing", "let a benchmark, run or metric present on one side only pass (it fails the comparison by default)"),
            ],
            Positionals("BASELINE CURRENT", "the two files to compare"),
            (o, io) => CompareCommand.Run(o, io.Out),
            [
                "perfsim compare base/report.json new/report.json",
                "perfsim compare base/sweep.json new/sweep.json --threshold 2% --metric 'counters.*'",
            ]),
        new("scenarios", "List the built-in scenarios, the options that set their N, P, G, V, and the fields of a scenario file.",
            [], null,
            (o, io) => ScenariosCommand.Run(o, io.Out),
            ["perfsim scenarios"]),
        new("directmap", "Apply a script of direct-map operations to a host and print the result.",
            [
                Valued("ram", "SIZE", $"host RAM, from {Sizes.Format(HostSpec.MinRamBytes)} to {Sizes.Format(HostInputs.MaxRamBytes)}", Sizes.Format(DirectMapCommand.DefaultRamBytes)),
                .. HostFileOptions(),
                Valued("arch", "ARCH", "the architecture's direct-map profile: one of " + string.Join(", ", ArchKinds.CliNames), ArchKind.X86_64.ToCliName(), ArchKinds.CliNames),
                Valued("gbpages", "on|off", "x86: map the direct map with 1 GiB pages where it can", "on", ["on", "off"]),
                Valued("rodata", "full|off", "arm64: rodata=full (PTE-only linear map) or off", "full", ["full", "off"]),
                Valued("script", "FILE", "the script (" + Engine.Scripts.DirectMapScript.Syntax + ")", "standard input"),
                Flag("json", "print the result as JSON"),
            ],
            null,
            (o, io) => DirectMapCommand.Run(o, io.In, io.InIsTerminal, io.Out),
            ["printf 'invalid 0x1000 512\\n' | perfsim directmap --ram 4G", "perfsim directmap --meminfo /proc/meminfo --script ops.txt --json"]),
        new("trace", "Run a scenario inside an EventPipe session; write FILE.nettrace and summarise it.",
            [.. ScenarioOptions(), .. HostFileOptions(), CostProfile(), Valued("out", "FILE.nettrace", "the trace to write (required)"), AllowLargeMemory()],
            null,
            (o, io) => TraceCommand.Run(o, io.Out),
            ["perfsim trace --guest-memory 64M --out boot.nettrace"]),
        new("replay", "Re-run a recorded or converted trace, possibly under another strategy or arch; options override its recorded configuration.",
            [.. ScenarioOptions(), .. HostFileOptions(), CostProfile(), Out(RunCommand.DefaultOut, "directory for report.json, report.md and charts"),
                Format(s_formats), Record("write the replayed run as a binary trace to FILE (e.g. to convert a text trace)"), NoReport(), AllowLargeMemory()],
            Positionals("FILE", "a binary trace from perfsim run --record, or a text trace"),
            (o, io) => ReplayCommand.Run(o, io.Out, io.Error),
            ["perfsim replay boot.pstrace --strategy filemap", "perfsim replay workload.txt --record workload.pstrace"]),
        new("completion", "Print a shell script that completes perfsim's commands, options and values (bash or zsh).",
            [], Positionals("SHELL", "bash or zsh"),
            (o, io) => CompletionCommand.Run(o, io.Out),
            ["source <(perfsim completion bash)        # bash: add it to ~/.bashrc", "source <(perfsim completion zsh)         # zsh: add it to ~/.zshrc"]),
    ];

    /// <summary>One option per scenario field, from the field table.</summary>
    private static IEnumerable<Option> ScenarioOptions() => ScenarioFields.All.Select(f =>
        (Option)Valued(f.OptionName, f.Choices.Count > 2 ? f.Key.ToUpperInvariant() : f.ValueName, $"{f.Description}: {f.Accepts}{UsedBy(f)}", f.DefaultText, f.Choices));

    private static string UsedBy(ScenarioField f) => f.UsedBy is null ? string.Empty : $" ({string.Join(", ", f.UsedBy)} only)";

    private static IEnumerable<Option> HostFileOptions() =>
    [
        Valued("e820", "FILE", "take the host's RAM from a dmesg e820 map (instead of --ram)"),
        Valued("meminfo", "FILE", "take the host's RAM and direct-map sizes from a /proc/meminfo copy (instead of --ram)"),
    ];

    private static Option<string> CostProfile() => Valued("cost-profile", "FILE", "a JSON cost profile (ns per TLB flush, IPI, page-table walk...)", "the architecture's defaults");

    private static Option<string> Out(string? fallback, string description) => Valued("out", "DIR", description, fallback);

    private static Option<string> Format(string[] formats) => Valued("format", "FORMAT", "the summary's format on standard output: one of " + string.Join(", ", formats), "text", formats);

    private static Option<string> Repeat() => Valued("repeat", "N", $"run N times (1 to {RunCommand.MaxRepeat}); the report keeps every wall-clock sample and the median", "1");

    private static Option<string> Record(string description = "stream every simulated event to a binary trace FILE (perfsim replay reads it)") => Valued("record", "FILE", description);

    private static Option<bool> AllowLargeMemory() => Flag("allow-large-memory", "run even when the estimated simulator state exceeds the memory available to this process (docs/limits.md)");

    private static Option<bool> NoReport() => Flag("no-report", "print the summary only; write no report files");

    private static Option<string> Valued(string name, string valueName, string description, string? defaultText = null, IReadOnlyList<string>? completions = null)
    {
        var option = new Option<string>("--" + name)
        {
            HelpName = valueName,
            Description = defaultText is null ? description : $"{description} [default: {defaultText}]",
        };
        if (completions is { Count: > 0 })
        {
            option.CompletionSources.Add([.. completions]);
        }

        return option;
    }

    private static Option<string[]> Repeatable(string name, string valueName, string description) => new("--" + name)
    {
        HelpName = valueName,
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<bool> Flag(string name, string description) => new("--" + name)
    {
        Description = description,
        Arity = ArgumentArity.Zero,
    };

    private static Argument<string[]> Positionals(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrMore,
    };
}
