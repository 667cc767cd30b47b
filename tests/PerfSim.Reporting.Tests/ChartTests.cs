using System.Globalization;
using System.Xml.Linq;
using PerfSim.Reporting.Charts;

namespace PerfSim.Reporting.Tests;

public sealed class ChartTests
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    private static string[] Series(XDocument doc) =>
        doc.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "series").Select(g => (string)g.Attribute("data-series")!).ToArray();

    private static string[] AxisLabels(XDocument doc) =>
        doc.Descendants(s_svg + "text").Where(t => (string?)t.Attribute("class") == "axis-label").Select(t => t.Value).ToArray();

    /// <summary>Parses the SVG and checks every numeric coordinate is a finite invariant number.</summary>
    private static XDocument ParseAndCheck(string svg)
    {
        XDocument doc = XDocument.Parse(svg);
        Assert.Equal(s_svg + "svg", doc.Root!.Name);
        Assert.False(string.IsNullOrWhiteSpace(doc.Root.Element(s_svg + "title")?.Value));
        string[] numeric = ["x", "y", "x1", "y1", "x2", "y2", "width", "height", "cx", "cy", "r"];
        foreach (XAttribute attribute in doc.Descendants().Attributes().Where(a => numeric.Contains(a.Name.LocalName)))
        {
            Assert.True(
                double.TryParse(attribute.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value),
                $"{attribute.Parent!.Name.LocalName}/@{attribute.Name} = \"{attribute.Value}\"");
        }

        foreach (XAttribute points in doc.Descendants(s_svg + "polyline").Attributes("points"))
        {
            Assert.All(points.Value.Split(' ', ','), p => Assert.True(double.IsFinite(double.Parse(p, CultureInfo.InvariantCulture))));
        }

        return doc;
    }

    [Fact]
    public void Latency_histogram_uses_a_log_x_axis_with_one_bar_per_non_empty_bucket()
    {
        XDocument doc = ParseAndCheck(LatencyHistogramChart.Render(Canned.Report()));

        Assert.Equal(["fault"], Series(doc));
        Assert.Contains("latency (simulated ns, log scale)", AxisLabels(doc));
        Assert.Contains("share of samples (%)", AxisLabels(doc));
        XElement series = doc.Descendants(s_svg + "g").Single(g => (string?)g.Attribute("data-series") == "fault");
        XElement[] bars = series.Elements(s_svg + "rect").ToArray();
        Assert.Equal(7, bars.Length);
        // Log-spaced buckets 512..16384 ns double each time, so on a log axis their widths are equal.
        double[] widths = bars.Take(6).Select(b => double.Parse((string)b.Attribute("width")!, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(widths, w => Assert.Equal(widths[0], w, precision: 1));
        string[] ticks = doc.Descendants(s_svg + "text").Where(t => (string?)t.Attribute("class") == "tick").Select(t => t.Value).ToArray();
        Assert.Contains("100", ticks);
        Assert.Contains("100k", ticks);
    }

    [Fact]
    public void Latency_histogram_overlays_several_distributions()
    {
        RunReport report = Canned.Report();
        XDocument doc = ParseAndCheck(LatencyHistogramChart.Render([new("direct-map", report.LatencyNs["fault"]), new("per-folio", report.LatencyNs["populate_page"])], "Fault latency by strategy"));

        Assert.Equal(["direct-map", "per-folio"], Series(doc));
        Assert.Equal(3, doc.Descendants(s_svg + "g").First(g => (string?)g.Attribute("data-series") == "per-folio")
            .Elements(s_svg + "line").Count(l => (string?)l.Attribute("class") == "marker"));
    }

    [Fact]
    public void Empty_histogram_still_renders_a_valid_chart()
    {
        RunReport report = Canned.Report() with
        {
            LatencyNs = new() { ["fault"] = Canned.Latency(0, 0, 0) with { Histogram = [] }, ["populate_page"] = Canned.Latency(0, 0, 0) },
        };

        XDocument doc = ParseAndCheck(LatencyHistogramChart.Render(report));

        Assert.Contains(doc.Descendants(s_svg + "text"), t => t.Value == "no samples");
    }

    [Fact]
    public void Direct_map_chart_has_before_and_after_series_with_three_bars_each()
    {
        XDocument doc = ParseAndCheck(DirectMapChart.Render(Canned.Report()));

        Assert.Equal(["before", "after"], Series(doc));
        Assert.Contains("direct map (MiB)", AxisLabels(doc));
        Assert.All(doc.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "series"),
            g => Assert.Equal(3, g.Elements(s_svg + "rect").Count()));
        // 1G after = 12,582,912 kB = 12,288 MiB, labelled on its bar.
        Assert.Contains(doc.Descendants(s_svg + "text"), t => t.Value == "12.3k MiB");
    }

    [Fact]
    public void Flush_chart_has_one_series_per_event_and_one_group_per_run()
    {
        LabeledReport[] runs = [new("direct-map", Canned.Report(ipis: 0)), new("per-folio", Canned.Report(ipis: 2_621_440))];

        XDocument doc = ParseAndCheck(FlushRateChart.Render(runs));

        Assert.Equal(["ipis", "flush_kernel_range", "flush_all"], Series(doc));
        Assert.Contains("events per 1,000 faults (log scale)", AxisLabels(doc));
        // The run without IPIs writes its 0 rather than drawing a bar below the log scale.
        Assert.Contains(doc.Descendants(s_svg + "text"), t => t.Value == "0.00");
        // 2,621,440 IPIs over 262,144 faults = 10,000 per 1,000 faults.
        Assert.Contains(doc.Descendants(s_svg + "text"), t => t.Value == "10000");
    }

    [Fact]
    public void Flush_chart_marks_a_run_without_faults_as_not_available()
    {
        XDocument doc = ParseAndCheck(FlushRateChart.Render([new("idle", Canned.Report(faults: 0))]));

        Assert.Equal(3, doc.Descendants(s_svg + "text").Count(t => t.Value == "n/a"));
    }

    [Fact]
    public void Exposure_chart_has_count_and_window_series()
    {
        XDocument doc = ParseAndCheck(ExposureChart.Render([new("per-folio", Canned.Report()), new("none", Canned.Report() with { Exposure = null })]));

        Assert.Equal(["zapped_pages", "stale_cpu_entries", "mean_window_ns", "max_window_ns"], Series(doc));
        Assert.Contains("window (simulated ns)", AxisLabels(doc));
        Assert.Equal(4, doc.Descendants(s_svg + "text").Count(t => t.Value == "n/a"));
    }

    [Fact]
    public void Sweep_line_chart_draws_one_line_per_strategy_over_cpu_counts()
    {
        XDocument doc = ParseAndCheck(SweepLineChart.Render(CannedSweep.Full(), SweepMetric.FaultP99));

        Assert.Equal(["direct-map", "per-folio"], Series(doc));
        Assert.Contains("cpus (log2 scale)", AxisLabels(doc));
        Assert.Contains("fault latency p99 (simulated ns)", AxisLabels(doc));
        foreach (XElement series in doc.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "series"))
        {
            string[] points = ((string)series.Element(s_svg + "polyline")!.Attribute("points")!).Split(' ');
            Assert.Equal(4, points.Length);
            double[] xs = points.Select(p => double.Parse(p.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
            // 1, 4, 16, 64 CPUs are equally spaced on a log axis.
            Assert.Equal(xs[1] - xs[0], xs[3] - xs[2], precision: 1);
        }
    }

    [Fact]
    public void Sweep_line_chart_names_lines_by_every_other_varied_axis()
    {
        var full = CannedSweep.Full();
        var sweep = full with
        {
            Matrix = [new("arch", ["x86_64", "arm64"]), .. full.Matrix.Skip(1)],
            Runs = [.. full.Runs, .. full.Runs.Select(r => r with { Key = r.Key.Replace("x86_64", "arm64", StringComparison.Ordinal), Ordinal = r.Ordinal + 8 })],
        };

        XDocument doc = ParseAndCheck(SweepLineChart.Render(sweep, SweepMetric.PopulateThroughput));

        Assert.Equal(4, Series(doc).Length);
        Assert.Contains("arch=arm64,strategy=per-folio", Series(doc));
    }

    [Fact]
    public void Charts_are_deterministic_and_culture_invariant()
    {
        string first = SweepLineChart.Render(CannedSweep.Full(), SweepMetric.FaultP50);
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = TestCultures.CommaDecimal;
            Assert.Equal(first, SweepLineChart.Render(CannedSweep.Full(), SweepMetric.FaultP50));
            Assert.Equal(LatencyHistogramChart.Render(Canned.Report()), LatencyHistogramChart.Render(Canned.Report()));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    /// <summary>none, two designs with identical figures, and one that refuses population, at 8 and 64 CPUs.</summary>
    internal static Sweeps.SweepReport DesignSweep()
    {
        Sweeps.MatrixAxis[] matrix = [new("strategy", ["none", "per-folio", "per-folio-v12", "unmapped-alloc"]), new("cpus", ["8", "64"])];
        return new Sweeps.SweepReport
        {
            Matrix = matrix,
            Runs = [.. Sweeps.SweepKey.All(matrix).Select((key, ordinal) =>
            {
                string strategy = key.Split(',')[0][9..];
                int cpus = key.EndsWith("=64", StringComparison.Ordinal) ? 64 : 8;
                RunReport report = strategy switch
                {
                    "none" => Canned.Report(strategy: strategy, cpus: cpus, ipis: 0, faultP50: 1_000, faultP99: 4_000),
                    "unmapped-alloc" => Refused(Canned.Report(strategy: strategy, cpus: cpus, ipis: 64L * cpus, faultP50: 1_200, faultP99: 5_000)),
                    _ => Canned.Report(strategy: strategy, cpus: cpus, ipis: 4_096L * cpus, faultP50: 1_850, faultP99: 12_500),
                };
                return new Sweeps.SweepRun(key, ordinal, report);
            })],
        };

        static RunReport Refused(RunReport report)
        {
            var counters = new OrderedDictionary<string, long>(report.Counters) { ["populate_refused"] = 4_096 };
            var latency = new OrderedDictionary<string, LatencySummary>(report.LatencyNs) { [LatencyNames.PopulatePage] = Canned.Latency(0, 0, 0) };
            return report with { Counters = counters, LatencyNs = latency };
        }
    }

    [Fact]
    public void Design_cost_chart_has_a_panel_per_figure_a_look_per_design_and_notes_for_coincidences_and_refusals()
    {
        XDocument doc = ParseAndCheck(SmallMultiplesChart.Render(DesignSweep(), Sweeps.DesignCost.Metrics, "cpus", "Design cost against none"));
        XElement[] panels = [.. doc.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "panel")];
        string[] texts = [.. doc.Descendants(s_svg + "text").Select(t => t.Value)];

        Assert.Equal(["fault p50", "fault p99", "IPIs per fault", "direct-map splits", "DirectMap4k after", "population rate"], panels.Select(p => (string)p.Attribute("data-series")!));
        Assert.True(double.Parse(doc.Root!.Attribute("width")!.Value, CultureInfo.InvariantCulture) <= 1100);
        // Every design looks different in every panel: its own dash pattern (or none) and marker element.
        XElement firstPanel = panels[0];
        var looks = firstPanel.Elements(s_svg + "g").Where(g => (string?)g.Attribute("class") == "series")
            .Select(g => ((string?)g.Element(s_svg + "polyline")?.Attribute("stroke-dasharray") ?? "solid") + "/" + g.Elements().Last().Name.LocalName + (string?)g.Elements().Last().Attribute("fill"))
            .ToArray();
        Assert.Equal(4, looks.Distinct().Count());
        Assert.Contains("same values: per-folio = per-folio-v12", texts);
        // unmapped-alloc refused population: written, not drawn at zero.
        XElement rate = panels[5];
        Assert.Contains(rate.Descendants(s_svg + "text"), t => t.Value == "refused: unmapped-alloc");
        Assert.DoesNotContain(rate.Descendants(s_svg + "g"), g => (string?)g.Attribute("data-series") == "unmapped-alloc" && g.Elements().Any());
        // none sends no IPIs: its points sit on the zero band, and the band is labelled 0.
        Assert.Contains(panels[2].Descendants(s_svg + "text"), t => t.Value == "0");
    }

    [Fact]
    public void Design_cost_notes_break_within_their_panel_and_name_all_designs_at_once()
    {
        string[] five = ["none", "per-folio", "per-folio-v12", "filemap", "unmapped-alloc"];
        string[] lines = [.. SmallMultiplesChart.NoteLines("same values: ", five, " = ")];

        // The arm64 design comparison's note, 67 characters on one line, ran into the next panel.
        Assert.Equal(["same values: none = per-folio = per-folio-v12 =", "filemap = unmapped-alloc"], lines);
        Assert.All(lines, l => Assert.True(l.Length <= SmallMultiplesChart.NoteChars, l));
        Assert.Equal(["refused: unmapped-alloc"], SmallMultiplesChart.NoteLines("refused: ", ["unmapped-alloc"], ", "));

        XDocument doc = ParseAndCheck(SmallMultiplesChart.Render(DesignSweep(), Sweeps.DesignCost.Metrics, "cpus", "Design cost against none"));
        string[] notes = [.. doc.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "panel")
            .SelectMany(p => p.Descendants(s_svg + "text")).Where(t => (string?)t.Attribute("class") == "note").Select(t => t.Value)];
        Assert.NotEmpty(notes);
        Assert.All(notes, n => Assert.True(n.Length <= SmallMultiplesChart.NoteChars, n));
        // Designs whose values coincide everywhere are named once as all of them.
        Assert.Contains("same values: all designs", notes);
        Assert.DoesNotContain(notes, n => n.Contains("none = per-folio = per-folio-v12 = unmapped-alloc", StringComparison.Ordinal));
    }

    [Fact]
    public void Sweep_charts_keep_a_bounded_width_however_many_runs()
    {
        Sweeps.MatrixAxis[] matrix = [new("strategy", ["none", "per-folio"]), new("cpus", [.. Enumerable.Range(1, 20).Select(i => (i * 4).ToString(CultureInfo.InvariantCulture))])];
        var sweep = new Sweeps.SweepReport
        {
            Matrix = matrix,
            Runs = [.. Sweeps.SweepKey.All(matrix).Select((key, ordinal) => new Sweeps.SweepRun(key, ordinal, Canned.Report()))],
        };
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-wide-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<string> names = ReportBundle.Write(directory, sweep);

            Assert.Contains("design-cost.svg", names);
            foreach (string svg in names.Where(n => n.EndsWith(".svg", StringComparison.Ordinal)))
            {
                XDocument doc = ParseAndCheck(File.ReadAllText(Path.Combine(directory, svg)));
                Assert.True(double.Parse(doc.Root!.Attribute("width")!.Value, CultureInfo.InvariantCulture) <= 1100, svg);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Design_cost_table_gives_each_figure_with_its_ratio_to_none()
    {
        var md = new System.Text.StringBuilder();
        Sweeps.DesignCost.AppendTable(md, DesignSweep());
        string text = md.ToString();

        Assert.Contains("| strategy | fault p50 (ns) | fault p99 (ns) | IPIs per fault (IPIs) | direct-map splits (splits) | DirectMap4k after (kB) | population rate (B/s simulated) |", text, StringComparison.Ordinal);
        Assert.Contains("**cpus=8**", text, StringComparison.Ordinal);
        Assert.Contains("| none | 1k (×1.00) | 4k (×1.00) | 0 | 20 (×1.00) | 1.07M (×1.00) | 4.5G (×1.00) |", text, StringComparison.Ordinal);
        Assert.Contains("| per-folio | 1.85k (×1.85) | 12.5k (×3.12) | 0.13 | 20 (×1.00) | 1.07M (×1.00) | 4.5G (×1.00) |", text, StringComparison.Ordinal);
        Assert.Contains("| unmapped-alloc | 1.2k (×1.20) | 5k (×1.25) | 0.00195 | 20 (×1.00) | 1.07M (×1.00) | refused |", text, StringComparison.Ordinal);
    }
}
