using PerfSim.Core.Arch;
using PerfSim.Core;
using PerfSim.Cli.Output;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;
using PerfSim.Reporting;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim run</c>: run a scenario, print its summary, write <c>DIR/report.json</c>.</summary>
internal static class RunCommand
{
    public const string DefaultOut = "perfsim-out";

    /// <summary>Most repeats a run takes: plenty for the comparer's rank test, few enough to stay quick.</summary>
    public const int MaxRepeat = 100;

    public static int Run(OptionSet options, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        (ScenarioConfig config, HostSpec? host, string hostSource) = Resolve(options);
        ConsoleFormat format = Format(options);
        int repeat = (int)options.Integer("repeat", 1, MaxRepeat, 1);
        string outDir = options.String("out") ?? DefaultOut;
        string? record = options.String("record");
        if (record is not null && repeat > 1)
        {
            throw new InputException("--record and --repeat cannot be combined: a trace records one run");
        }

        Outputs.Check(options, outDir, record);

        var results = new List<RunResult>(repeat);
        for (int i = 1; i <= repeat; i++)
        {
            string label = repeat == 1 ? ReportMapper.Describe(config) : $"[{i}/{repeat}] {ReportMapper.Describe(config)}";
            results.Add(Execute(config, host, label, stderr, stderrIsTerminal, record));
            if (results[^1].Digest != results[0].Digest)
            {
                stderr.WriteLine($"perfsim run: repeat {i} gave digest {results[^1].Digest}, repeat 1 gave {results[0].Digest}: the simulation is not deterministic (a bug; please report it with the options used)");
                return ExitCodes.Violation;
            }
        }

        RunReport report = ReportMapper.ToReport(results[0], hostSource);
        if (repeat > 1)
        {
            // Repeats simulate the same thing (equal digests), so only the wall figures differ:
            // keep every sample for the comparer's rank test and summarise by the median.
            double[] samples = [.. results.Select(r => r.FaultsPerWallSecond)];
            report = report with
            {
                Wall = report.Wall with
                {
                    Seconds = Median(results.Select(r => r.WallSeconds)),
                    FaultsPerWallSecond = Median(samples),
                    FaultsPerWallSecondSamples = samples,
                },
            };
        }

        if (!options.Has("no-report"))
        {
            Written.Bundle(stderr, outDir, dir => ReportBundle.Write(dir, report));
        }

        stdout.Write(ReportRenderer.Render(report, format));
        return results[0].Violations.Count > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }

    /// <summary>The <c>--format</c> of the console summary.</summary>
    public static ConsoleFormat Format(OptionSet options) => options.Choice("format", ["text", "json", "markdown", "csv"], "text") switch
    {
        "json" => ConsoleFormat.Json,
        "markdown" => ConsoleFormat.Markdown,
        "csv" => ConsoleFormat.Csv,
        _ => ConsoleFormat.Text,
    };

    /// <summary>Runs one configuration, with a progress line on standard error when it is a terminal,
    /// streaming its events to a binary trace at <paramref name="recordPath"/> when one is given.</summary>
    public static RunResult Execute(ScenarioConfig config, HostSpec? host, string label, TextWriter stderr, bool stderrIsTerminal, string? recordPath = null)
    {
        var progress = new ProgressLine(stderr, stderrIsTerminal, label, ScenarioNames.Phases(config));
        RunResult result = TraceFiles.Record(recordPath, config, stderr, sink => SimulationRun.Execute(config, host, sink, progress.Report));
        progress.Finish();
        return result;
    }

    /// <summary>
    /// Scenario defaults (or <paramref name="defaults"/>, e.g. a trace's recorded configuration),
    /// then a scenario file, then <paramref name="baseFields"/> (a sweep's matrix base), then
    /// options, then <paramref name="runFields"/> (a sweep run's varied values); then the host and
    /// the cross-field checks, reported at <paramref name="where"/>.
    /// </summary>
    public static (ScenarioConfig Config, HostSpec? Host, string HostSource) Resolve(
        OptionSet options, IReadOnlyList<FieldValue>? baseFields = null, IReadOnlyList<FieldValue>? runFields = null, string? where = null, ScenarioConfig? defaults = null)
    {
        ScenarioConfig config = defaults ?? new ScenarioConfig();
        string? scenario = options.String("scenario");
        if (scenario is not null && !ScenarioNames.All.Contains(scenario, StringComparer.Ordinal))
        {
            if (scenario != "-" && !File.Exists(scenario) && !Directory.Exists(scenario))
            {
                throw new InputException($"--scenario: '{scenario}' is neither a built-in scenario ({string.Join(", ", ScenarioNames.All)}) nor a readable file");
            }

            config = ScenarioFields.ApplyJson(config, options.ReadFile("scenario"), Reporting.Input.InputFiles.NameOf(scenario));
            // Cross-field errors name the file whose values clash (and the options, if they joined in).
            where ??= ScenarioFields.All.Any(f => f.Key != "scenario" && options.Has(f.OptionName)) ? $"{Reporting.Input.InputFiles.NameOf(scenario)} and the options" : Reporting.Input.InputFiles.NameOf(scenario);
        }

        config = Apply(config, baseFields);
        foreach (ScenarioField field in ScenarioFields.All)
        {
            if (field.Key != "scenario" || (scenario is not null && ScenarioNames.All.Contains(scenario, StringComparer.Ordinal)))
            {
                string? value = options.String(field.OptionName);
                if (value is not null)
                {
                    config = field.Set(config, value, "--" + field.OptionName);
                }
            }
        }

        config = Apply(config, runFields);
        if (options.Has("cost-profile"))
        {
            config = config with { Costs = CostProfileJson.Read(options.ReadFile("cost-profile"), options.String("cost-profile")!, config.Arch) };
        }

        options.Exclusive("ram", "e820", "meminfo");
        HostSpec? host = null;
        string hostSource = Sizes.Format(config.RamBytes);
        if (options.Has("e820") || options.Has("meminfo"))
        {
            var profile = SimulationRun.DirectMapProfileOf(config);
            string arch = config.Arch.ToCliName();
            host = options.Has("e820")
                ? HostSpec.FromE820(arch, profile, options.ReadFile("e820"), Reporting.Input.InputFiles.NameOf(options.String("e820")!))
                : HostSpec.FromMeminfo(arch, profile, options.ReadFile("meminfo"), Reporting.Input.InputFiles.NameOf(options.String("meminfo")!));
            if (host.Layout.RamBytes < 256 * PageGeometry.MiB || host.Layout.EndPfn * PageGeometry.PageSize > ScenarioFields.MaxBytes)
            {
                throw new InputException($"{host.RamSource}: RAM must total at least 256 MiB and end below 4 TiB");
            }

            config = config with { RamBytes = host.Layout.RamBytes };
            hostSource = host.RamSource;
        }

        config = ScenarioFields.Validate(config, where ?? "options");
        Preflight.Check(config, host, options.Has("allow-large-memory"), where ?? "options");
        return (config, host, hostSource);
    }

    private static ScenarioConfig Apply(ScenarioConfig config, IReadOnlyList<FieldValue>? fields) =>
        (fields ?? []).Aggregate(config, (c, f) => ScenarioFields.Set(c, f.Key, f.Value, f.Where));

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>A scenario field set by a file or a sweep axis; <see cref="Where"/> names it in errors
/// (e.g. <c>matrix.json: $.base.cpus</c>).</summary>
internal readonly record struct FieldValue(string Key, string Value, string Where);

