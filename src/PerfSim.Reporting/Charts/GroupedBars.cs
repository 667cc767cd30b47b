namespace PerfSim.Reporting.Charts;

/// <summary>One bar per group; <see cref="double.NaN"/> marks a group without a value ("n/a").</summary>
internal sealed record BarSeries(string Name, IReadOnlyList<double> Values);

/// <summary>Grouped vertical bars, each labelled with its value: on a linear axis from zero, or on a
/// log axis where values span decades (a zero is then written, not drawn).</summary>
internal static class GroupedBars
{
    public static void Draw(
        SvgCanvas svg,
        PlotArea area,
        IReadOnlyList<string> groups,
        IReadOnlyList<BarSeries> series,
        string xLabel,
        string yLabel,
        Func<double, string> valueLabel,
        int firstColor = 0,
        bool logScale = false)
    {
        double max = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        double[] positive = series.SelectMany(s => s.Values).Where(v => v > 0 && double.IsFinite(v)).ToArray();
        Axis y = logScale && positive.Length > 0
            ? new LogAxis(positive.Min(), positive.Max(), area.Bottom, area.Top)
            : new LinearAxis(0, max, area.Bottom, area.Top);
        Frame.YAxis(svg, area, y, yLabel);
        Frame.CategoryAxis(svg, area, groups, xLabel);

        double slot = area.Width / Math.Max(1, groups.Count);
        // 80% of each slot holds bars, the rest separates groups.
        double barWidth = slot * 0.8 / Math.Max(1, series.Count);
        for (int s = 0; s < series.Count; s++)
        {
            svg.BeginGroup("series", series[s].Name);
            for (int g = 0; g < groups.Count; g++)
            {
                double value = series[s].Values[g];
                double x = area.Left + (slot * g) + (slot * 0.1) + (barWidth * s);
                if (!double.IsFinite(value))
                {
                    svg.Text(x + (barWidth / 2), area.Bottom - 4, "n/a", "middle", "value");
                    continue;
                }

                if (y is LogAxis && value <= 0)
                {
                    svg.Text(x + (barWidth / 2), area.Bottom - 4, valueLabel(value), "middle", "value", size: 10);
                    continue;
                }

                double top = y.Map(Math.Max(0, value));
                svg.Rect(x, top, barWidth - 2, area.Bottom - top, SvgCanvas.Color(firstColor + s), "bar", $"{series[s].Name} {groups[g]}: {valueLabel(value)}");
                svg.Text(x + (barWidth / 2), top - 4, valueLabel(value), "middle", "value", size: 10);
            }

            svg.EndGroup();
        }
    }
}
