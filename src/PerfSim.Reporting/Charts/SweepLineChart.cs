using System.Globalization;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Charts;

/// <summary>A figure of a run plotted by sweep charts.</summary>
public sealed record SweepMetric(string Name, string AxisLabel, Func<RunReport, double> Value)
{
    public static SweepMetric FaultP50 { get; } = new("fault_p50", "fault latency p50 (simulated ns)", r => r.LatencyNs[LatencyNames.Fault].P50);

    public static SweepMetric FaultP99 { get; } = new("fault_p99", "fault latency p99 (simulated ns)", r => r.LatencyNs[LatencyNames.Fault].P99);

    public static SweepMetric PopulateThroughput { get; } =
        new("populate_bytes_per_sim_second", "population throughput (bytes per simulated s)", r => r.Sim.PopulateBytesPerSimSecond);

    public static SweepMetric FaultsPerSimSecond { get; } = new("faults_per_sim_second", "faults per simulated s", r => r.Sim.FaultsPerSimSecond);
}

/// <summary>
/// A metric against a numeric sweep axis (CPU count by default), one line per combination of the
/// other varied axes, e.g. one line per strategy. CPU counts that span 4× or more use a log2 x axis.
/// </summary>
public static class SweepLineChart
{
    public static string Render(SweepReport sweep, SweepMetric metric, string xAxis = "cpus", string? title = null)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(metric);
        if (!sweep.Matrix.Any(a => a.Name == xAxis))
        {
            throw new ArgumentException($"The sweep does not vary \"{xAxis}\".", nameof(xAxis));
        }

        // Axes with one value are the same for every line and would only clutter the names.
        string[] seriesAxes = sweep.Matrix.Where(a => a.Name != xAxis && a.Values.Count > 1).Select(a => a.Name).ToArray();
        var lines = sweep.Runs
            .Select(run => (Series: SeriesName(run, seriesAxes), X: ParseX(run, xAxis), Y: metric.Value(run.Report)))
            .GroupBy(p => p.Series, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Points: g.OrderBy(p => p.X).Select(p => (p.X, p.Y)).ToArray()))
            .ToArray();

        // Identical lines hide each other: name them under the plot.
        string[][] coinciding = lines.GroupBy(l => string.Join(";", l.Points.Select(p => Rendering.Invariant.RoundTrip(p.X) + ":" + Rendering.Invariant.RoundTrip(p.Y))), StringComparer.Ordinal)
            .Where(g => g.Count() > 1).Select(g => g.Select(l => l.Name).ToArray()).ToArray();
        var svg = new SvgCanvas(720, 440 + (14 * coinciding.Length), title ?? $"{metric.Name} by {xAxis}");
        var area = new PlotArea(90, 70, 600, 300);
        svg.Legend(lines.Select(l => l.Name).ToArray(), 48);
        for (int i = 0; i < coinciding.Length; i++)
        {
            svg.Text(area.Left, 440 + (14 * i), "same values: " + string.Join(" = ", coinciding[i]), "start", "note", size: 11);
        }

        double[] xs = lines.SelectMany(l => l.Points).Select(p => p.X).Distinct().Order().ToArray();
        bool logX = xs.Length > 0 && xs[0] > 0 && xs[^1] / xs[0] >= 4;
        Axis x = logX
            ? new Log2ValuesAxis(xs, area.Left, area.Right)
            : new LinearAxis(Math.Min(0, xs.DefaultIfEmpty(0).Min()), xs.DefaultIfEmpty(1).Max(), area.Left, area.Right);
        double yMax = lines.SelectMany(l => l.Points).Select(p => p.Y).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var y = new LinearAxis(0, yMax, area.Bottom, area.Top);
        Frame.YAxis(svg, area, y, metric.AxisLabel);
        Frame.XAxis(svg, area, x, logX ? $"{xAxis} (log2 scale)" : xAxis);

        for (int i = 0; i < lines.Length; i++)
        {
            string color = SvgCanvas.Color(i);
            (double X, double Y)[] points = lines[i].Points.Where(p => double.IsFinite(p.Y)).Select(p => (x.Map(p.X), y.Map(p.Y))).ToArray();
            svg.BeginGroup("series", lines[i].Name);
            svg.Polyline(points, color, SmallMultiplesChart.Dash(i));
            foreach ((double px, double py) in points)
            {
                SmallMultiplesChart.Marker(svg, i, px, py, lines[i].Name);
            }

            svg.EndGroup();
        }

        return svg.Finish();
    }

    private static string SeriesName(SweepRun run, string[] seriesAxes) => seriesAxes.Length switch
    {
        0 => "all",
        1 => run.Value(seriesAxes[0]),
        _ => SweepKey.Format(seriesAxes.Select(a => new KeyValuePair<string, string>(a, run.Value(a)))),
    };

    private static double ParseX(SweepRun run, string xAxis)
    {
        string text = run.Value(xAxis);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : throw new ArgumentException($"Axis \"{xAxis}\" value \"{text}\" of run {run.Key} is not a number.", nameof(xAxis));
    }
}
