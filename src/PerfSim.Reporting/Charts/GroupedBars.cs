namespace PerfSim.Reporting.Charts;

/// <summary>One bar per group; <see cref="double.NaN"/> marks a group without a value ("n/a").</summary>
internal sealed record BarSeries(string Name, IReadOnlyList<double> Values);

/// <summary>Grouped vertical bars on a linear axis from zero, each bar labelled with its value.</summary>
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
        int firstColor = 0)
    {
        double max = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var y = new LinearAxis(0, max, area.Bottom, area.Top);
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

                double top = y.Map(Math.Max(0, value));
                svg.Rect(x, top, barWidth - 2, area.Bottom - top, SvgCanvas.Color(firstColor + s), "bar", $"{series[s].Name} {groups[g]}: {valueLabel(value)}");
                svg.Text(x + (barWidth / 2), top - 4, valueLabel(value), "middle", "value", size: 10);
            }

            svg.EndGroup();
        }
    }
}
