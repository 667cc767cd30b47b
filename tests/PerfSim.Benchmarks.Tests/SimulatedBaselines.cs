using System.Globalization;
using System.Text;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;
using PerfSim.Reporting.Comparison;

namespace PerfSim.Benchmarks.Tests;

/// <summary>One fixed-seed scenario of the gate: a name and the <c>perfsim run</c> options that reproduce it.</summary>
public sealed record BaselineCase(string Name, IReadOnlyList<string> Options)
{
    public string BaselinePath(string directory) => Path.Combine(directory, Name + ".json");

    public string CommandLine => "perfsim run " + string.Join(' ', Options) + " --threads 1 --format json";
}

/// <summary>
/// Simulated figures are model outputs: for a fixed seed they are the same on every machine and
/// every host thread count, so the gate compares them exactly with the committed report
/// (counters, latency percentiles, DirectMap sizes, exposure, digest) through
/// <see cref="ResultComparer"/>. Wall figures are zeroed in the committed files: they describe the
/// machine, and the comparer leaves a single sample Inconclusive anyway.
/// </summary>
internal static class SimulatedBaselines
{
    /// <summary>Set to 1 to rewrite the committed baselines from the current model (on purpose).</summary>
    public const string UpdateVariable = "PERFSIM_UPDATE_BASELINES";

    public static string CasesFile(string directory) => Path.Combine(directory, "cases.txt");

    /// <summary>Reads <c>cases.txt</c>: one case per line, <c>NAME --option value ...</c>; <c>#</c> starts a comment.</summary>
    public static IReadOnlyList<BaselineCase> ReadCases(string path)
    {
        var cases = new List<BaselineCase>();
        foreach (string raw in File.ReadLines(path))
        {
            string line = raw.Split('#')[0].Trim();
            if (line.Length > 0)
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                cases.Add(new BaselineCase(words[0], words[1..]));
            }
        }

        return cases;
    }

    /// <summary>Resolves the options as <c>perfsim run</c> does (scenario fields only) with one host thread.</summary>
    public static ScenarioConfig Config(BaselineCase c)
    {
        var config = new ScenarioConfig { Threads = 1 };
        for (int i = 0; i < c.Options.Count; i += 2)
        {
            string option = c.Options[i];
            if (!option.StartsWith("--", StringComparison.Ordinal) || i + 1 == c.Options.Count)
            {
                throw new FormatException($"{c.Name}: expected '--field value' pairs, found '{option}'");
            }

            config = ScenarioFields.Set(config, option[2..], c.Options[i + 1], option);
        }

        return ScenarioFields.Validate(config, c.Name);
    }

    /// <summary>Runs the case and returns its report with the machine-dependent wall figures zeroed.</summary>
    public static RunReport Run(BaselineCase c)
    {
        ScenarioConfig config = Config(c);
        RunReport report = ReportMapper.ToReport(SimulationRun.Execute(config), PerfSim.Engine.Inputs.Sizes.Format(config.RamBytes));
        return report with { Wall = report.Wall with { Seconds = 0, FaultsPerWallSecond = 0 } };
    }

    /// <summary>Every compared figure that is not exactly the baseline's (better ones too: a
    /// model change is a model change), and anything present on one side only.</summary>
    public static IReadOnlyList<ComparisonRow> Differences(RunReport baseline, RunReport current) =>
        [.. ResultComparer.Compare(baseline, current, new ComparisonOptions()).Rows
            .Where(r => r.Verdict is not (Verdict.Same or Verdict.Inconclusive))];

    public static string Explain(BaselineCase c, string baselinePath, IReadOnlyList<ComparisonRow> differences)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{c.Name}: the simulation no longer matches {baselinePath} ({c.CommandLine}):");
        foreach (ComparisonRow r in differences)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {r.Metric}: {r.Baseline} -> {r.Current} ({r.Verdict}{(r.Note.Length > 0 ? ", " + r.Note : "")})");
        }

        text.AppendLine("Simulated figures for a fixed seed must not change unless the change means to change the model.");
        text.AppendLine(CultureInfo.InvariantCulture, $"If it does, say so in the commit message and rewrite the baselines: {UpdateVariable}=1 dotnet test -c Release --filter FullyQualifiedName~SimulatedBaselineTests");
        return text.ToString();
    }
}
