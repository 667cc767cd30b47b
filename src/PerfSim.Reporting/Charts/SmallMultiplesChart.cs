using System.Globalization;
using PerfSim.Reporting.Rendering;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Charts;

/// <summary>
/// A figure of one run drawn in a small-multiples panel. <see cref="Value"/> returns NaN where the
/// figure does not apply (n/a) and null where the design refused the path ("refused").
/// </summary>
public sealed record PanelMetric(string Title, string Unit, Func<RunReport, double?> Value);

/// <summary>
/// A grid of small panels, one per metric, each a log-scale line chart with one line per design
/// (strategy) against the sweep's x axis, so a sweep of any size keeps a bounded width. Every line
/// has its own colour, marker and dash, so lines that lie on top of each other stay tellable, and a
/// note under the panel names the designs whose values coincide. Zeros sit on a band under the log
/// scale, labelled 0; refusals are written as "refused", never drawn as zero.
/// </summary>
public static class SmallMultiplesChart
{
    private const double PanelWidth = 300;
    private const double PanelHeight = 170;
    private const double CellWidth = 340;
    private const double CellHeight = 270;
    private const int Columns = 3;

    // Dash patterns and markers cycle independently of the colours, so no two of the first 8 series look alike.
    private static readonly string?[] s_dashes = [null, "8 4", "2 3", "10 3 2 3", "4 4", "1 5", "12 6", "6 2 2 2"];

    public static string Render(SweepReport sweep, IReadOnlyList<PanelMetric> metrics, string xAxis, string title)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(metrics);
        string[] series = SeriesNames(sweep);
        string[] xs = XValues(sweep, xAxis);
        int rows = (metrics.Count + Columns - 1) / Columns;
        var svg = new SvgCanvas((CellWidth * Math.Min(Columns, metrics.Count)) + 40, 96 + (rows * CellHeight), title);
        Legend(svg, series);
        for (int m = 0; m < metrics.Count; m++)
        {
            double left = 80 + (CellWidth * (m % Columns));
            double top = 110 + (CellHeight * (m / Columns));
            Panel(svg, new PlotArea(left, top, PanelWidth - 50, PanelHeight), sweep, metrics[m], series, xs, xAxis);
        }

        return svg.Finish();
    }

    /// <summary>The designs of a sweep in matrix order; "all" when the sweep does not vary the strategy.</summary>
    internal static string[] SeriesNames(SweepReport sweep) =>
        sweep.Matrix.FirstOrDefault(a => a.Name == ReportBundle.SeriesAxis)?.Values.ToArray() ?? ["all"];

    private static string Series(SweepRun run) =>
        run.Values.FirstOrDefault(v => v.Key == ReportBundle.SeriesAxis).Value ?? "all";

    private static string[] XValues(SweepReport sweep, string xAxis) =>
        sweep.Matrix.FirstOrDefault(a => a.Name == xAxis)?.Values
            .OrderBy(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.MaxValue)
            .ToArray() ?? ["all"];

    private static string X(SweepRun run, string xAxis) => run.Values.FirstOrDefault(v => v.Key == xAxis).Value ?? "all";

    private static void Legend(SvgCanvas svg, string[] series)
    {
        svg.BeginGroup("legend");
        double x = 80;
        for (int i = 0; i < series.Length; i++)
        {
            svg.Line(x, 52, x + 28, 52, SvgCanvas.Color(i), "legend-line", Dash(i), width: 2);
            Marker(svg, i, x + 14, 52, series[i]);
            svg.Text(x + 34, 56, series[i]);
            x += 48 + (7 * series[i].Length);
        }

        svg.Text(80, 78, "log scale; 0 on the band under each axis; \"refused\" where the design refuses the path", "start", "note", size: 11);
        svg.EndGroup();
    }

    private static void Panel(SvgCanvas svg, PlotArea area, SweepReport sweep, PanelMetric metric, string[] series, string[] xs, string xAxis)
    {
        // Values per series, in x order: NaN n/a, null refused.
        double?[][] values = series.Select(s => xs.Select(x =>
            sweep.Runs.FirstOrDefault(r => Series(r) == s && X(r, xAxis) == x) is { } run ? metric.Value(run.Report) : double.NaN).ToArray()).ToArray();
        double[] positive = values.SelectMany(v => v).OfType<double>().Where(v => v > 0 && double.IsFinite(v)).ToArray();
        const double zeroBand = 28;
        var plot = area with { Height = area.Height - zeroBand };
        var y = new LogAxis(positive.Length > 0 ? positive.Min() : 1, positive.Length > 0 ? positive.Max() : 10, plot.Bottom, plot.Top);
        double zeroY = area.Bottom - (zeroBand / 2);

        svg.BeginGroup("panel", metric.Title);
        svg.Text(area.Left + (area.Width / 2), area.Top - 12, $"{metric.Title} ({metric.Unit})", "middle", "panel-title", size: 13);
        Frame.YAxis(svg, plot, y, "", labelOffset: 0);
        svg.Line(area.Left, zeroY, area.Right, zeroY, "#e0e0e0", "grid");
        svg.Text(area.Left - 6, zeroY + 4, "0", "end", "tick");
        double slot = area.Width / xs.Length;
        double XPixel(int i) => area.Left + (slot * (i + 0.5));
        svg.BeginGroup("axis x-axis");
        svg.Line(area.Left, area.Bottom, area.Right, area.Bottom, "#333333");
        for (int i = 0; i < xs.Length; i++)
        {
            svg.Text(XPixel(i), area.Bottom + 16, xs[i], "middle", "tick");
        }

        svg.Text(area.Left + (area.Width / 2), area.Bottom + 32, xAxis == "" ? "" : xAxis, "middle", "axis-label");
        svg.EndGroup();

        var refusedAt = new HashSet<int>();
        for (int s = 0; s < series.Length; s++)
        {
            var points = new List<(double X, double Y)>();
            svg.BeginGroup("series", series[s]);
            for (int i = 0; i < xs.Length; i++)
            {
                double? v = values[s][i];
                if (v is null)
                {
                    refusedAt.Add(i);
                    continue;
                }

                if (double.IsNaN(v.Value))
                {
                    continue;
                }

                double py = v.Value <= 0 ? zeroY : y.Map(v.Value);
                points.Add((XPixel(i), py));
                Marker(svg, s, XPixel(i), py, $"{series[s]}, {xAxis}={xs[i]}: {Invariant.Compact(v.Value)} {metric.Unit}");
            }

            if (points.Count > 1)
            {
                svg.Polyline(points, SvgCanvas.Color(s), Dash(s));
            }

            svg.EndGroup();
        }

        foreach (int i in refusedAt)
        {
            svg.Text(XPixel(i), zeroY - 8, "refused", "middle", "refused", size: 10);
        }

        // Lines drawn on top of each other hide all but the last: say which ones coincide, and who refused.
        double line = area.Bottom + 48;
        string[] refusing = series.Where((_, s) => values[s].Any(v => v is null)).ToArray();
        IEnumerable<string> notes = (refusing.Length > 0 ? NoteLines("refused: ", refusing, ", ") : [])
            .Concat(Coinciding(series, values).SelectMany(group => group.Length == series.Length
                ? ["same values: all designs"]
                : NoteLines("same values: ", group, " = ")));
        foreach (string note in notes)
        {
            svg.Text(area.Left, line, note, "start", "note", size: 10);
            line += 13;
        }

        svg.EndGroup();
    }

    /// <summary>Characters of a 10-px note that fit in a cell (about 6 px each, 340 px): a longer
    /// note ran into the next panel.</summary>
    internal const int NoteChars = 52;

    /// <summary><paramref name="prefix"/> and <paramref name="items"/> joined by
    /// <paramref name="separator"/> (ending in a space), broken after a separator into lines of at most
    /// <see cref="NoteChars"/> (an item longer than that stands alone).</summary>
    internal static IEnumerable<string> NoteLines(string prefix, IReadOnlyList<string> items, string separator)
    {
        var line = new System.Text.StringBuilder(prefix);
        int atLineStart = line.Length;
        for (int i = 0; i < items.Count; i++)
        {
            string item = items[i] + (i < items.Count - 1 ? separator.TrimEnd() : "");
            if (line.Length > atLineStart && line.Length + 1 + item.Length > NoteChars)
            {
                yield return line.ToString();
                line.Clear();
                atLineStart = 0;
            }

            if (line.Length > atLineStart)
            {
                line.Append(' ');
            }

            line.Append(item);
        }

        yield return line.ToString();
    }

    /// <summary>Groups of two or more series with identical values at every x (refusals included).</summary>
    internal static IEnumerable<string[]> Coinciding(string[] series, double?[][] values) =>
        Enumerable.Range(0, series.Length)
            .Where(s => values[s].Any(v => v is not double d || !double.IsNaN(d)))
            .GroupBy(s => string.Join(";", values[s].Select(v => v is double d ? Invariant.RoundTrip(d) : "refused")), StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.Select(s => series[s]).ToArray());

    internal static string? Dash(int series) => s_dashes[series % s_dashes.Length];

    /// <summary>A distinct shape per series (circle, square, triangle, diamond, cross, ...), filled with its colour.</summary>
    internal static void Marker(SvgCanvas svg, int series, double x, double y, string tooltip)
    {
        string color = SvgCanvas.Color(series);
        const double r = 4.5;
        switch (series % 6)
        {
            case 0:
                svg.Circle(x, y, r, color, tooltip);
                break;
            case 1:
                svg.Rect(x - r, y - r, 2 * r, 2 * r, color, "marker", tooltip);
                break;
            case 2:
                svg.Polygon([(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)], color, tooltip);
                break;
            case 3:
                svg.Polygon([(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)], color, tooltip);
                break;
            case 4:
                svg.Polygon([(x - r - 1, y - r + 1), (x + r + 1, y - r + 1), (x, y + r + 1)], color, tooltip);
                break;
            default:
                svg.Circle(x, y, r, "#ffffff", tooltip, stroke: color);
                break;
        }
    }
}
