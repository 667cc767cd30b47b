using System.Text;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Sweeps;

/// <summary>Renders a sweep: one row per run with the varied keys as columns plus headline figures.</summary>
public static class SweepRenderer
{
    // The few figures that fit a terminal line; CSV and Markdown carry all headline figures.
    private static readonly string[] s_textFigures = ["fault_p50", "fault_p99", "ipis_per_1000_faults", "faults_per_sim_second", "populate_bytes_per_sim_second"];

    public static string Render(SweepReport sweep, ConsoleFormat format) => format switch
    {
        ConsoleFormat.Text => Table(sweep, s_textFigures).Render(),
        ConsoleFormat.Json => SweepJson.Serialize(sweep),
        ConsoleFormat.Markdown => Markdown(sweep, charts: null),
        ConsoleFormat.Csv => Csv(sweep),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown console format."),
    };

    public static string Csv(SweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        string[] axes = sweep.Matrix.Select(a => a.Name).ToArray();
        string[] figures = sweep.Runs.Count > 0 ? Headline.For(sweep.Runs[0].Report).Select(f => f.Name).ToArray() : [];
        // What ran, minus what the axes already say.
        string[] what = sweep.Runs.Count > 0 ? RunHeader.For(sweep.Runs[0].Report).Select(f => f.Name).Where(n => !axes.Contains(n)).ToArray() : [];
        string[] header = ["ordinal", .. axes, "scenario", .. what, .. figures];
        return Rendering.Csv.Render(header, sweep.Runs.Select(run =>
        {
            Dictionary<string, string> header = RunHeader.For(run.Report).ToDictionary(f => f.Name, f => f.Raw);
            return (IReadOnlyList<string>)
            [
                Invariant.Integer(run.Ordinal), .. axes.Select(run.Value), run.Report.Scenario, .. what.Select(n => header.GetValueOrDefault(n, "")),
                .. Headline.For(run.Report).Select(f => f.Raw),
            ];
        }));
    }

    public static string Markdown(SweepReport sweep, IReadOnlyList<ChartLink>? charts)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var md = new StringBuilder("# PerfSim sweep\n\n## Matrix\n\n");
        Rendering.Markdown.Table(md, ["key", "values"], sweep.Matrix.Select(a => new[] { a.Name, string.Join(", ", a.Values) }));
        DesignCost.AppendTable(md, sweep);
        md.Append("## Runs\n\n");
        HeadlineFigure[] first = sweep.Runs.Count > 0 ? Headline.For(sweep.Runs[0].Report).Where(f => f.Name != "digest").ToArray() : [];
        string[] figures = first.Select(f => f.Name).ToArray();
        string[] axes = sweep.Matrix.Select(a => a.Name).ToArray();
        Rendering.Markdown.Table(md, [.. axes, .. first.Select(WithUnit)], sweep.Runs.Select(run => (IReadOnlyList<string>)
        [
            .. axes.Select(run.Value), .. Headline.For(run.Report).Where(f => figures.Contains(f.Name)).Select(f => f.Display),
        ]));
        foreach (ChartLink chart in charts ?? [])
        {
            md.Append("![").Append(Rendering.Markdown.Escape(chart.Title)).Append("](").Append(Uri.EscapeDataString(chart.FileName)).Append(")\n\n");
        }

        return md.ToString();
    }

    private static string WithUnit(HeadlineFigure figure) => figure.Unit.Length > 0 ? $"{figure.Name} ({figure.Unit})" : figure.Name;

    private static TextTable Table(SweepReport sweep, IReadOnlyList<string> figures)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        string[] axes = sweep.Matrix.Select(a => a.Name).ToArray();
        Dictionary<string, HeadlineFigure> named = sweep.Runs.Count > 0 ? Headline.For(sweep.Runs[0].Report).ToDictionary(f => f.Name) : [];
        var table = new TextTable([.. axes, .. figures.Select(f => named.TryGetValue(f, out HeadlineFigure? h) ? WithUnit(h) : f)]);
        foreach (SweepRun run in sweep.Runs)
        {
            Dictionary<string, string> byName = Headline.For(run.Report).ToDictionary(f => f.Name, f => f.Display);
            table.AddRow([.. axes.Select(run.Value), .. figures.Select(f => byName[f])]);
        }

        return table;
    }
}
