using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Charts;

/// <summary>A run with the label it carries in multi-run charts (a strategy, or a sweep key).</summary>
public sealed record LabeledReport(string Label, RunReport Report);

/// <summary>DirectMap 4K/2M/1G before and after the run, as grouped bars.</summary>
public static class DirectMapChart
{
    public static string Render(RunReport report, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var svg = new SvgCanvas(720, 420, title ?? $"Direct map before and after: {report.Scenario}");
        svg.Legend(["before", "after"], 48);
        // MiB keeps tick labels short; the tooltips and value labels carry the same unit.
        static double[] MiB(DirectMapSizes s) => [s.DirectMap4k / 1024.0, s.DirectMap2M / 1024.0, s.DirectMap1G / 1024.0];
        GroupedBars.Draw(
            svg,
            new PlotArea(80, 70, 610, 290),
            ["DirectMap4k", "DirectMap2M", "DirectMap1G"],
            [new BarSeries("before", MiB(report.DirectMap.Before)), new BarSeries("after", MiB(report.DirectMap.After))],
            "page size of the direct-map mapping",
            "direct map (MiB)",
            v => Invariant.Compact(v) + " MiB");
        return svg.Finish();
    }
}

/// <summary>IPIs and TLB flushes per 1,000 faults, one group of bars per run, on a log scale (IPIs outnumber full flushes by 10^4).</summary>
public static class FlushRateChart
{
    /// <summary>The same figures as sweep panels.</summary>
    public static IReadOnlyList<PanelMetric> Metrics { get; } =
    [
        new("IPIs", "per 1,000 faults", r => Headline.PerThousandFaults(r, r.Counter(CounterNames.Ipis))),
        new(CounterNames.FlushKernelRange, "per 1,000 faults", r => Headline.PerThousandFaults(r, r.Counter(CounterNames.FlushKernelRange))),
        new(CounterNames.FlushAll, "per 1,000 faults", r => Headline.PerThousandFaults(r, r.Counter(CounterNames.FlushAll))),
    ];

    public static string Render(IReadOnlyList<LabeledReport> runs, string title = "IPIs and TLB flushes per 1,000 faults")
    {
        ArgumentNullException.ThrowIfNull(runs);
        var svg = new SvgCanvas(Math.Max(720, 160 + (runs.Count * 120)), 420, title);
        BarSeries Series(string name, Func<RunReport, long> events) =>
            new(name, runs.Select(r => Headline.PerThousandFaults(r.Report, events(r.Report))).ToArray());
        BarSeries[] series =
        [
            Series(CounterNames.Ipis, r => r.Counter(CounterNames.Ipis)),
            Series(CounterNames.FlushKernelRange, r => r.Counter(CounterNames.FlushKernelRange)),
            Series(CounterNames.FlushAll, r => r.Counter(CounterNames.FlushAll)),
        ];
        svg.Legend(series.Select(s => s.Name).ToArray(), 48);
        GroupedBars.Draw(
            svg,
            new PlotArea(80, 70, svg.Width - 110, 290),
            runs.Select(r => r.Label).ToArray(),
            series,
            "run",
            "events per 1,000 faults (log scale)",
            v => Invariant.Fixed(v, v >= 100 ? 0 : 2),
            logScale: true);
        return svg.Finish();
    }
}

/// <summary>
/// Stale-translation exposure per run: counts (zapped pages, stale CPU entries) on the left and
/// windows in ns (mean, max) on the right, because the two have unrelated units.
/// </summary>
public static class ExposureChart
{
    /// <summary>The same figures as sweep panels (NaN when a run has no exposure figures).</summary>
    public static IReadOnlyList<PanelMetric> Metrics { get; } =
    [
        new("zapped pages", "pages", r => r.Exposure?.ZappedPages ?? double.NaN),
        new("stale CPU entries", "TLB entries", r => r.Exposure?.StaleCpuEntries ?? double.NaN),
        new("mean window", "ns simulated", r => r.Exposure?.MeanWindowNs ?? double.NaN),
        new("max window", "ns simulated", r => r.Exposure?.MaxWindowNs ?? double.NaN),
    ];

    public static string Render(IReadOnlyList<LabeledReport> runs, string title = "Stale-translation exposure")
    {
        ArgumentNullException.ThrowIfNull(runs);
        double panelWidth = Math.Max(300, 80 + (runs.Count * 90));
        var svg = new SvgCanvas((2 * panelWidth) + 140, 420, title);
        string[] labels = runs.Select(r => r.Label).ToArray();
        double[] Values(Func<ExposureReport, double> pick) =>
            runs.Select(r => r.Report.Exposure is { } e ? pick(e) : double.NaN).ToArray();

        svg.Legend(["zapped_pages", "stale_cpu_entries", "mean_window_ns", "max_window_ns"], 48);
        GroupedBars.Draw(
            svg,
            new PlotArea(80, 70, panelWidth, 290),
            labels,
            [new BarSeries("zapped_pages", Values(e => e.ZappedPages)), new BarSeries("stale_cpu_entries", Values(e => e.StaleCpuEntries))],
            "run",
            "pages / TLB entries",
            Invariant.Compact);
        // The second panel has its own y axis.
        GroupedBars.Draw(
            svg,
            new PlotArea(panelWidth + 160, 70, panelWidth - 40, 290),
            labels,
            [new BarSeries("mean_window_ns", Values(e => e.MeanWindowNs)), new BarSeries("max_window_ns", Values(e => e.MaxWindowNs))],
            "run",
            "window (simulated ns)",
            Invariant.Compact,
            firstColor: 2);
        return svg.Finish();
    }
}
