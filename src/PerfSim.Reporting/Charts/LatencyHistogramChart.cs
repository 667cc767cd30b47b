using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Charts;

/// <summary>
/// Latency distributions as histograms on a log-scale x axis (buckets are log-spaced, so equal
/// widths per doubling), y = share of the series' samples, with p50/p99/p99.9 markers.
/// </summary>
public static class LatencyHistogramChart
{
    /// <summary>The fault latency of one run.</summary>
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return Render([new(LatencyNames.Fault, report.LatencyNs[LatencyNames.Fault])], $"Fault latency: {report.Scenario}");
    }

    /// <summary>Several distributions overlaid (e.g. one per strategy), each its own series.</summary>
    public static string Render(IReadOnlyList<KeyValuePair<string, LatencySummary>> series, string title)
    {
        ArgumentNullException.ThrowIfNull(series);
        var svg = new SvgCanvas(720, 420, title);
        var area = new PlotArea(80, 70, 610, 290);
        svg.Legend(series.Select(s => s.Key).ToArray(), 48);

        var bars = series.Select(s => Buckets(s.Value).ToArray()).ToArray();
        var all = bars.SelectMany(b => b).ToArray();
        double lowest = all.Length > 0 ? all.Min(b => b.Low) : 1;
        double highest = all.Length > 0 ? all.Max(b => b.High) : 1000;
        var x = new LogAxis(lowest, highest, area.Left, area.Right);
        var y = new LinearAxis(0, all.Length > 0 ? all.Max(b => b.Percent) : 0, area.Bottom, area.Top);
        Frame.YAxis(svg, area, y, "share of samples (%)");
        Frame.XAxis(svg, area, x, "latency (simulated ns, log scale)");
        if (all.Length == 0)
        {
            svg.Text(area.Left + (area.Width / 2), area.Top + (area.Height / 2), "no samples", "middle", "empty");
        }

        for (int s = 0; s < series.Count; s++)
        {
            string color = SvgCanvas.Color(s);
            svg.BeginGroup("series", series[s].Key);
            foreach ((double low, double high, double percent, long count) in bars[s])
            {
                double left = x.Map(low);
                double top = y.Map(percent);
                svg.Rect(left, top, x.Map(high) - left, area.Bottom - top, color, "bar",
                    $"({Invariant.RoundTrip(low)}, {Invariant.RoundTrip(high)}] ns: {Invariant.Integer(count)} samples", opacity: series.Count > 1 ? 0.6 : 1);
            }

            LatencySummary latency = series[s].Value;
            foreach ((string name, long value) in new[] { ("p50", latency.P50), ("p99", latency.P99), ("p99.9", latency.P999) })
            {
                if (value >= lowest && value <= highest && latency.Count > 0)
                {
                    double px = x.Map(value);
                    svg.Line(px, area.Top, px, area.Bottom, color, "marker", "4 3");
                    svg.Text(px + 3, area.Top + 12 + (s * 12), name, "start", "marker-label", size: 10);
                }
            }

            svg.EndGroup();
        }

        return svg.Finish();
    }

    // A bucket counts (previous bound, LeNs]; the first bucket's lower edge assumes the same
    // ratio as the next pair of bounds, which is what log-spaced buckets have.
    private static IEnumerable<(double Low, double High, double Percent, long Count)> Buckets(LatencySummary latency)
    {
        IReadOnlyList<HistogramBucket> buckets = latency.Histogram;
        long total = buckets.Sum(b => b.Count);
        for (int i = 0; i < buckets.Count; i++)
        {
            if (buckets[i].Count == 0)
            {
                continue;
            }

            double high = buckets[i].LeNs;
            double low = i > 0 ? buckets[i - 1].LeNs
                : buckets.Count > 1 ? high * high / buckets[1].LeNs
                : high / 2;
            yield return (low, high, buckets[i].Count * 100.0 / total, buckets[i].Count);
        }
    }
}
