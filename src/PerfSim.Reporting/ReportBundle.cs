using PerfSim.Reporting.Charts;
using PerfSim.Reporting.Output;
using PerfSim.Reporting.Rendering;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting;

/// <summary>
/// Writes a run's or a sweep's output directory (JSON, Markdown linking its SVG charts, CSV for
/// sweeps) as one <see cref="AtomicFileSet"/>: either every file is replaced or none is.
/// </summary>
public static class ReportBundle
{
    public const string ReportJsonFile = "report.json";
    public const string SweepJsonFile = "sweep.json";
    public const string MarkdownFile = "report.md";
    public const string CsvFile = "report.csv";

    /// <summary>Writes report.json, report.md and its charts; returns the file names written.</summary>
    public static IReadOnlyList<string> Write(string directory, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        LabeledReport[] one = [new(report.Scenario, report)];
        var charts = new List<(ChartLink Link, string Svg)>
        {
            (new("Fault latency distribution", "latency.svg"), LatencyHistogramChart.Render(report)),
            (new("Direct map before and after", "direct-map.svg"), DirectMapChart.Render(report)),
            (new("IPIs and flushes per 1,000 faults", "flushes.svg"), FlushRateChart.Render(one)),
        };
        if (report.Exposure is not null)
        {
            charts.Add((new("Stale-translation exposure", "exposure.svg"), ExposureChart.Render(one)));
        }

        AtomicFileSet files = new AtomicFileSet()
            .AddText(ReportJsonFile, ReportJson.Serialize(report))
            .AddText(MarkdownFile, Markdown.Render(report, charts.ConvertAll(c => c.Link)))
            .AddText(CsvFile, Csv.Render(report));
        charts.ForEach(c => files.AddText(c.Link.FileName, c.Svg));
        files.Commit(directory);
        return files.Names;
    }

    /// <summary>The axis whose values become the lines of the sweep charts when it is varied.</summary>
    public const string SeriesAxis = "strategy";

    /// <summary>
    /// Writes sweep.json, report.md, report.csv and the sweep charts: the design-cost panels (each
    /// design against none), each metric against <paramref name="xAxis"/>, and the flush and exposure
    /// panels. When the sweep varies <see cref="SeriesAxis"/>, each chart has one line per strategy
    /// and every combination of the other varied axes (arch, populate, ...) gets its own chart, so
    /// no chart mixes them.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, SweepReport sweep, string xAxis = "cpus")
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var charts = new List<(ChartLink Link, string Svg)>();
        bool varied = sweep.Matrix.Any(a => a.Name == xAxis);
        bool designs = sweep.Matrix.Any(a => a.Name == SeriesAxis);
        foreach ((string label, string suffix, SweepReport facet) in sweep.Runs.Count > 0 ? Facets(sweep, xAxis) : [])
        {
            string Title(string what) => label.Length == 0 ? what : $"{what}, {label}";
            if (designs)
            {
                string title = Title(varied ? $"Design cost against {DesignCost.Reference} by {xAxis}" : $"Design cost against {DesignCost.Reference}");
                charts.Add((new(title, "design-cost" + suffix + ".svg"), SmallMultiplesChart.Render(facet, DesignCost.Metrics, xAxis, title)));
            }

            if (varied)
            {
                foreach (SweepMetric metric in new[] { SweepMetric.FaultP50, SweepMetric.FaultP99, SweepMetric.PopulateThroughput })
                {
                    string title = Title($"{metric.Name} by {xAxis}");
                    string file = metric.Name.Replace('_', '-') + suffix + ".svg";
                    charts.Add((new(title, file), SweepLineChart.Render(facet, metric, xAxis, title)));
                }
            }

            // Bounded-width panels instead of one bar group per run (thousands of pixels wide).
            string flushTitle = Title("IPIs and TLB flushes per 1,000 faults");
            charts.Add((new(flushTitle, "flushes" + suffix + ".svg"), SmallMultiplesChart.Render(facet, FlushRateChart.Metrics, xAxis, flushTitle)));
            if (facet.Runs.Any(r => r.Report.Exposure is not null))
            {
                string exposureTitle = Title("Stale-translation exposure");
                charts.Add((new(exposureTitle, "exposure" + suffix + ".svg"), SmallMultiplesChart.Render(facet, ExposureChart.Metrics, xAxis, exposureTitle)));
            }
        }

        AtomicFileSet files = new AtomicFileSet()
            .AddText(SweepJsonFile, SweepJson.Serialize(sweep))
            .AddText(MarkdownFile, SweepRenderer.Markdown(sweep, charts.ConvertAll(c => c.Link)))
            .AddText(CsvFile, SweepRenderer.Csv(sweep));
        charts.ForEach(c => files.AddText(c.Link.FileName, c.Svg));
        files.Commit(directory);
        return files.Names;
    }

    /// <summary>
    /// The sweep split by the values of the varied axes other than <paramref name="xAxis"/> and
    /// <see cref="SeriesAxis"/>, in matrix order, each labelled <c>arch=arm64, populate=memcpy</c>
    /// with the file-name suffix <c>-arch-arm64-populate-memcpy</c>; the whole sweep with empty
    /// label and suffix when there is nothing to split by.
    /// </summary>
    private static IEnumerable<(string Label, string Suffix, SweepReport Facet)> Facets(SweepReport sweep, string xAxis)
    {
        bool hasSeries = sweep.Matrix.Any(a => a.Name == SeriesAxis && a.Values.Count > 1);
        MatrixAxis[] facetAxes = hasSeries ? sweep.Matrix.Where(a => a.Name != xAxis && a.Name != SeriesAxis && a.Values.Count > 1).ToArray() : [];
        if (facetAxes.Length == 0)
        {
            yield return ("", "", sweep);
            yield break;
        }

        foreach (string facetKey in SweepKey.All(facetAxes))
        {
            IReadOnlyList<KeyValuePair<string, string>> values = SweepKey.Parse(facetKey);
            SweepRun[] runs = sweep.Runs.Where(r => values.All(v => r.Value(v.Key) == v.Value)).ToArray();
            if (runs.Length > 0)
            {
                // One value per facet axis, so the chart names its lines by strategy alone.
                MatrixAxis[] matrix = sweep.Matrix
                    .Select(a => values.FirstOrDefault(v => v.Key == a.Name) is { Key: not null } v ? new MatrixAxis(a.Name, [v.Value]) : a)
                    .ToArray();
                string label = string.Join(", ", values.Select(v => $"{v.Key}={v.Value}"));
                string suffix = string.Concat(values.Select(v => $"-{FileNamePart(v.Key)}-{FileNamePart(v.Value)}"));
                yield return (label, suffix, sweep with { Matrix = matrix, Runs = runs });
            }
        }
    }

    // Axis names and values are free text without ',' or '='; keep file names portable.
    private static string FileNamePart(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));
}
