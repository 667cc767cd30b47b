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

    /// <summary>Writes sweep.json, report.md, report.csv and the sweep charts.</summary>
    public static IReadOnlyList<string> Write(string directory, SweepReport sweep, string xAxis = "cpus")
    {
        ArgumentNullException.ThrowIfNull(sweep);
        LabeledReport[] runs = sweep.Runs.Select(r => new LabeledReport(r.Key, r.Report)).ToArray();
        var charts = new List<(ChartLink Link, string Svg)>();
        if (sweep.Matrix.Any(a => a.Name == xAxis))
        {
            foreach (SweepMetric metric in new[] { SweepMetric.FaultP50, SweepMetric.FaultP99, SweepMetric.PopulateThroughput })
            {
                charts.Add((new($"{metric.Name} by {xAxis}", $"{metric.Name.Replace('_', '-')}.svg"), SweepLineChart.Render(sweep, metric, xAxis)));
            }
        }

        charts.Add((new("IPIs and flushes per 1,000 faults", "flushes.svg"), FlushRateChart.Render(runs)));
        if (runs.Any(r => r.Report.Exposure is not null))
        {
            charts.Add((new("Stale-translation exposure", "exposure.svg"), ExposureChart.Render(runs)));
        }

        AtomicFileSet files = new AtomicFileSet()
            .AddText(SweepJsonFile, SweepJson.Serialize(sweep))
            .AddText(MarkdownFile, SweepRenderer.Markdown(sweep, charts.ConvertAll(c => c.Link)))
            .AddText(CsvFile, SweepRenderer.Csv(sweep));
        charts.ForEach(c => files.AddText(c.Link.FileName, c.Svg));
        files.Commit(directory);
        return files.Names;
    }
}
