using PerfSim.Core;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim run</c>: run a scenario, print its summary, write <c>DIR/report.json</c>.</summary>
internal static class RunCommand
{
    public const string DefaultOut = "perfsim-out";

    public static readonly string[] Valued = [.. ScenarioFields.Keys, "e820", "meminfo", "cost-profile", "out", "format", "record"];

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        OptionSet options = OptionSet.Parse("run", args, Valued, ["no-report"]);
        (ScenarioConfig config, HostSpec? host, string hostSource) = Resolve(options);
        ConsoleFormat format = options.Choice("format", ["text", "json", "markdown", "csv"], "text") switch
        {
            "json" => ConsoleFormat.Json,
            "markdown" => ConsoleFormat.Markdown,
            "csv" => ConsoleFormat.Csv,
            _ => ConsoleFormat.Text,
        };
        string outDir = options.String("out") ?? DefaultOut;

        Action<double>? progress = stderrIsTerminal ? p => stderr.Write($"\r{ReportMapper.Describe(config)}: {p:P0} ") : null;
        RunResult result = TraceFiles.Record(options.String("record"), config, stderr, sink => SimulationRun.Execute(config, host, sink, progress));
        if (progress is not null)
        {
            stderr.WriteLine();
        }

        RunReport report = ReportMapper.ToReport(result, hostSource);
        if (!options.Has("no-report"))
        {
            ReportBundle.Write(outDir, report);
        }

        stdout.Write(ReportRenderer.Render(report, format));
        return result.Violations.Count > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }

    /// <summary>Scenario defaults (or <paramref name="defaults"/>), then a scenario file, then options; then cross-field checks.</summary>
    public static (ScenarioConfig Config, HostSpec? Host, string HostSource) Resolve(OptionSet options, ScenarioConfig? defaults = null)
    {
        ScenarioConfig config = defaults ?? new ScenarioConfig();
        string? scenario = options.String("scenario");
        if (scenario is not null && !ScenarioNames.All.Contains(scenario, StringComparer.Ordinal))
        {
            if (!File.Exists(scenario))
            {
                throw new InputException($"--scenario: '{scenario}' is neither a built-in scenario ({string.Join(", ", ScenarioNames.All)}) nor a readable file");
            }

            config = ScenarioFields.ApplyJson(config, options.ReadFile("scenario"), scenario);
        }

        foreach (string key in ScenarioFields.Keys)
        {
            if (key != "scenario" || (scenario is not null && ScenarioNames.All.Contains(scenario, StringComparer.Ordinal)))
            {
                string? value = options.String(key);
                if (value is not null)
                {
                    config = ScenarioFields.Set(config, key, value, "--" + key);
                }
            }
        }

        if (options.Has("cost-profile"))
        {
            config = config with { Costs = ScenarioFields.CostsFromJson(options.ReadFile("cost-profile"), options.String("cost-profile")!) };
        }

        options.Exclusive("ram", "e820", "meminfo");
        HostSpec? host = null;
        string hostSource = Sizes.Format(config.RamBytes);
        if (options.Has("e820") || options.Has("meminfo"))
        {
            var profile = SimulationRun.DirectMapProfileOf(config);
            string arch = config.Arch.ToString();
            host = options.Has("e820")
                ? HostSpec.FromE820(arch, profile, options.ReadFile("e820"), options.String("e820")!)
                : HostSpec.FromMeminfo(arch, profile, options.ReadFile("meminfo"), options.String("meminfo")!);
            if (host.Layout.RamBytes < 256 * PageGeometry.MiB || host.Layout.EndPfn * PageGeometry.PageSize > ScenarioFields.MaxBytes)
            {
                throw new InputException($"{host.RamSource}: RAM must total at least 256 MiB and end below 4 TiB");
            }

            config = config with { RamBytes = host.Layout.RamBytes };
            hostSource = host.RamSource;
        }

        return (ScenarioFields.Validate(config, "options"), host, hostSource);
    }
}
