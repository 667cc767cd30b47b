using System.Text;
using PerfSim.Reporting.Charts;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Sweeps;

/// <summary>
/// What each design (strategy) costs against <c>none</c>, the kernel without direct-map removal:
/// the figures of the design-cost table and chart of a sweep.
/// </summary>
public static class DesignCost
{
    /// <summary>The strategy every other one is measured against.</summary>
    public const string Reference = "none";

    private static readonly string[] s_refusalCounters = ["write_refused", "populate_refused", "gup_refused"];

    /// <summary>Fault p50/p99, IPIs per fault, splits, DirectMap4k after, population rate.</summary>
    public static IReadOnlyList<PanelMetric> Metrics { get; } =
    [
        new("fault p50", "ns", r => r.LatencyNs[LatencyNames.Fault] is { Count: > 0 } l ? l.P50 : double.NaN),
        new("fault p99", "ns", r => r.LatencyNs[LatencyNames.Fault] is { Count: > 0 } l ? l.P99 : double.NaN),
        new("IPIs per fault", "IPIs", r => r.Counter(CounterNames.Faults) is > 0 and long f ? (double)r.Counter(CounterNames.Ipis) / f : double.NaN),
        new("direct-map splits", "splits", r => r.Counter(CounterNames.Level2Splits) + r.Counter(CounterNames.Level3Splits)),
        new("DirectMap4k after", "kB", r => r.DirectMap.After.DirectMap4k),
        new("population rate", "B/s simulated", PopulationRate),
    ];

    /// <summary>Bytes populated per simulated second; null when the design refused every population; NaN when the run populated nothing.</summary>
    public static double? PopulationRate(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.LatencyNs[LatencyNames.PopulatePage].Count > 0)
        {
            return report.Sim.PopulateBytesPerSimSecond;
        }

        return Refusals(report) > 0 ? null : double.NaN;
    }

    /// <summary>Pages a population path refused (write, populate ioctl, GUP).</summary>
    public static long Refusals(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return s_refusalCounters.Sum(report.Counter);
    }

    /// <summary>
    /// Markdown: for each combination of the other varied axes, one row per design with each figure
    /// and its ratio to <c>none</c> in the same combination ("refused", "n/a" where they apply).
    /// </summary>
    public static void AppendTable(StringBuilder md, SweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(sweep);
        if (!sweep.Matrix.Any(a => a.Name == ReportBundle.SeriesAxis))
        {
            return;
        }

        md.Append("## Design cost against ").Append(Reference).Append("\n\n");
        md.Append("Each figure with its ratio to `").Append(Reference).Append("` in the same configuration (×1.00 = no cost).\n\n");
        string[] header = ["strategy", .. Metrics.Select(m => $"{m.Title} ({m.Unit})")];
        foreach (IGrouping<string, SweepRun> group in sweep.Runs.GroupBy(Others, StringComparer.Ordinal))
        {
            if (group.Key.Length > 0)
            {
                md.Append("**").Append(Rendering.Markdown.Escape(group.Key)).Append("**\n\n");
            }

            RunReport? reference = group.FirstOrDefault(r => r.Value(ReportBundle.SeriesAxis) == Reference)?.Report;
            Rendering.Markdown.Table(md, header, group.Select(run => (IReadOnlyList<string>)
            [
                run.Value(ReportBundle.SeriesAxis), .. Metrics.Select(m => Cell(m, run.Report, reference)),
            ]));
        }
    }

    private static string Cell(PanelMetric metric, RunReport run, RunReport? reference)
    {
        double? value = metric.Value(run);
        if (value is not double v)
        {
            return "refused";
        }

        if (double.IsNaN(v))
        {
            return "n/a";
        }

        string text = Invariant.Compact(v);
        return reference is not null && metric.Value(reference) is double r && r > 0 && double.IsFinite(r)
            ? $"{text} (×{Invariant.Fixed(v / r, 2)})"
            : text;
    }

    // The run's key without the strategy: the configuration the designs are compared in.
    private static string Others(SweepRun run) =>
        string.Join(", ", run.Values.Where(v => v.Key != ReportBundle.SeriesAxis).Select(v => $"{v.Key}={v.Value}"));
}
