using System.Globalization;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Tests;

public sealed class RenderingTests : IDisposable
{
    private readonly CultureInfo _saved = CultureInfo.CurrentCulture;

    // Every test here renders under a comma-decimal culture: a renderer that forgets
    // InvariantCulture prints "8,5" and fails.
    public RenderingTests() => CultureInfo.CurrentCulture = TestCultures.CommaDecimal;

    public void Dispose() => CultureInfo.CurrentCulture = _saved;

    [Fact]
    public void Markdown_has_configuration_headline_latency_direct_map_and_chart_links()
    {
        string md = Markdown.Render(Canned.Report(), [new ChartLink("Fault latency distribution", "latency.svg")]);

        Assert.StartsWith("# PerfSim run: gmem-fault\n\ngmem-fault: per-folio on x86_64, 4 CPUs, 2 vCPUs, guest 1 GiB, host 16 GiB, seed 42.\n", md, StringComparison.Ordinal);
        // The headline comes before the configuration, the passes name their population path.
        Assert.True(md.IndexOf("## Headline", StringComparison.Ordinal) < md.IndexOf("## Configuration", StringComparison.Ordinal));
        Assert.Contains("| 0 | memcpy | 1048576 | 1048576 | -2097152 |", md, StringComparison.Ordinal);
        Assert.Contains("| memory.guest_mib | 1024 |", md, StringComparison.Ordinal);
        Assert.Contains("| memory.thp | true |", md, StringComparison.Ordinal);
        Assert.Contains("| strategy | per-folio |", md, StringComparison.Ordinal);
        Assert.Contains("| fault_p99 | 12500 | ns simulated |", md, StringComparison.Ordinal);
        Assert.Contains("| ipis_per_1000_faults | 3.91 | IPIs per 1000 faults |", md, StringComparison.Ordinal);
        Assert.Contains("| fault | 262144 | 1850 | 5550 | 12500 | 25000 | 62500 | 2312.5 |", md, StringComparison.Ordinal);
        Assert.Contains("| after | 1069056 | 3125248 | 12582912 |", md, StringComparison.Ordinal);
        Assert.Contains("| 4096 | 12 | 1250.5 | 9000.0 |", md, StringComparison.Ordinal);
        Assert.Contains("![Fault latency distribution](latency.svg)", md, StringComparison.Ordinal);
        Assert.Contains("| engine_quanta | 777 |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_escapes_pipes_in_cells()
    {
        string md = Markdown.Render(Canned.Report(scenario: "a|b") with { Violations = ["x | y"] });

        Assert.Contains("# PerfSim run: a\\|b", md, StringComparison.Ordinal);
        Assert.Contains("- x \\| y", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_has_a_header_and_one_row_with_round_trip_numbers()
    {
        string[] lines = ReportRenderer.Render(Canned.Report(), ConsoleFormat.Csv).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2, lines.Length);
        string[] header = lines[0].Split(',');
        string[] row = lines[1].Split(',');
        Assert.Equal(header.Length, row.Length);
        string Field(string name) => row[Array.IndexOf(header, name)];
        Assert.Equal("262144", Field("faults"));
        Assert.Equal("4500000000", Field("populate_bytes_per_sim_second"));
        Assert.Equal("3.90625", Field("ipis_per_1000_faults"));
        Assert.Equal("116508.44444444444", Field("faults_per_wall_second"));
        Assert.Equal("2.25", Field("wall_seconds"));
    }

    [Fact]
    public void Csv_quotes_fields_with_commas_and_quotes()
    {
        string csv = Csv.Render(["a", "b"], [["x,y", "say \"hi\""]]);

        Assert.Equal("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", csv);
    }

    [Fact]
    public void Text_summary_names_what_ran_and_gives_every_figure_a_unit()
    {
        string text = ReportRenderer.Render(Canned.Report() with { Violations = ["frame 12 reused while mapped"] }, ConsoleFormat.Text);

        Assert.Equal(
            """
            PerfSim run: gmem-fault: per-folio on x86_64, 4 CPUs, 2 vCPUs, guest 1 GiB, host 16 GiB, seed 42
            metric                         value          unit
            -----------------------------  -------------  -----------------------
            faults                                262144  faults
            fault_p50                               1850  ns simulated
            fault_p99                              12500  ns simulated
            fault_p999                             25000  ns simulated
            populate_page_p50                        900  ns simulated
            populate_page_p99                       4000  ns simulated
            faults_per_sim_second                   175k  faults/s simulated
            populate_bytes_per_sim_second           4.5G  B/s simulated
            ipis_per_1000_faults                    3.91  IPIs per 1000 faults
            flushes_per_1000_faults                 7.84  flushes per 1000 faults
            direct_map_level2_splits                   3  splits 2M to 4K
            direct_map_level3_splits                  17  splits 1G to 2M
            direct_map_4k_after                  1069056  kB
            direct_map_2m_after                  3125248  kB
            direct_map_1g_after                 12582912  kB
            stale_tlb_accesses                         0  accesses
            oops                                       0  oopses
            leaked_unmapped_frames                     0  frames
            wall_seconds                           2.250  s wall
            faults_per_wall_second                  117k  faults/s wall
            digest                         sha256:0f3a9c

            pass  label   DirectMap4k Δ kB  DirectMap2M Δ kB  DirectMap1G Δ kB
            ----  ------  ----------------  ----------------  ----------------
               0  memcpy           1048576           1048576          -2097152
            VIOLATION: frame 12 reused while mapped

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void What_does_not_apply_is_n_a_not_zero()
    {
        RunReport report = Canned.Report() with
        {
            LatencyNs = new OrderedDictionary<string, LatencySummary>
            {
                [LatencyNames.Fault] = Canned.Latency(262_144, 1_850, 12_500),
                [LatencyNames.PopulatePage] = Canned.Latency(0, 0, 0),
            },
        };

        string[] lines = ReportRenderer.Text(report).Split('\n');
        Assert.Matches(@"^populate_page_p50 +n/a  ns simulated$", lines.Single(l => l.StartsWith("populate_page_p50", StringComparison.Ordinal)));
        Assert.Matches(@"^populate_bytes_per_sim_second +n/a  B/s simulated$", lines.Single(l => l.StartsWith("populate_bytes", StringComparison.Ordinal)));
        Assert.Contains("| populate_page | 0 | n/a | n/a | n/a | n/a | n/a | n/a |", Markdown.Render(report), StringComparison.Ordinal);
        string[] csv = Csv.Render(report).Split('\n');
        Assert.Equal("", csv[1].Split(',')[Array.IndexOf(csv[0].Split(','), "populate_page_p50")]);
    }

    [Fact]
    public void Csv_starts_with_what_ran()
    {
        string[] lines = Csv.Render(Canned.Report()).Split('\n');

        Assert.StartsWith("scenario,strategy,arch,cpus,vcpus,guest_memory,ram,seed,faults,", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("gmem-fault,per-folio,x86_64,4,2,1073741824,17179869184,42,262144,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_leaves_out_what_the_configuration_does_not_say()
    {
        RunReport report = Canned.Report() with { Config = new System.Text.Json.Nodes.JsonObject { ["strategy"] = "none", ["seed"] = 1 } };

        Assert.Equal("gmem-fault: none, seed 1", RunHeader.Line(report));
        Assert.Equal("gmem-fault", RunHeader.Line(report with { Config = [] }));
    }

    [Theory]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1.5e-7, "0.00000015")]
    [InlineData(4.5e9, "4500000000")]
    public void Round_trip_numbers_never_use_E_notation(double value, string expected)
    {
        Assert.Equal(expected, Invariant.RoundTrip(value));
        Assert.Equal(value, double.Parse(expected, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Every_console_format_renders()
    {
        foreach (ConsoleFormat format in Enum.GetValues<ConsoleFormat>())
        {
            Assert.False(string.IsNullOrWhiteSpace(ReportRenderer.Render(Canned.Report(), format)));
        }

        Assert.Equal(ReportJson.Serialize(Canned.Report()), ReportRenderer.Render(Canned.Report(), ConsoleFormat.Json));
    }

    [Fact]
    public void Bundle_writes_json_markdown_csv_and_charts_that_the_markdown_links()
    {
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-bundle-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<string> names = ReportBundle.Write(directory, Canned.Report());

            Assert.Equal(names.Order(), Directory.GetFiles(directory).Select(Path.GetFileName).Order());
            string md = File.ReadAllText(Path.Combine(directory, "report.md"));
            foreach (string svg in names.Where(n => n.EndsWith(".svg", StringComparison.Ordinal)))
            {
                Assert.Contains($"]({svg})", md, StringComparison.Ordinal);
                System.Xml.Linq.XDocument.Parse(File.ReadAllText(Path.Combine(directory, svg)));
            }

            Assert.Equal(4, names.Count(n => n.EndsWith(".svg", StringComparison.Ordinal)));
            Assert.Equal(ReportJson.Serialize(Canned.Report()), File.ReadAllText(Path.Combine(directory, "report.json")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Sweep_bundle_gives_each_value_of_another_varied_axis_its_own_charts_with_one_line_per_strategy()
    {
        Sweeps.SweepReport x86 = CannedSweep.Full();
        Sweeps.MatrixAxis[] matrix = [new("arch", ["x86_64", "arm64"]), x86.Matrix[1], x86.Matrix[2]];
        var sweep = new Sweeps.SweepReport
        {
            Matrix = matrix,
            Runs = [.. Sweeps.SweepKey.All(matrix).Select((key, ordinal) => new Sweeps.SweepRun(key, ordinal, x86.Runs[ordinal % x86.Runs.Count].Report))],
        };
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-bundle-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<string> names = ReportBundle.Write(directory, sweep);

            Assert.Equal(
                [
                    "fault-p50-arch-x86_64.svg", "fault-p99-arch-x86_64.svg", "populate-bytes-per-sim-second-arch-x86_64.svg",
                    "fault-p50-arch-arm64.svg", "fault-p99-arch-arm64.svg", "populate-bytes-per-sim-second-arch-arm64.svg",
                ],
                names.Where(n => n.StartsWith("fault-p", StringComparison.Ordinal) || n.StartsWith("populate", StringComparison.Ordinal)));
            string svg = File.ReadAllText(Path.Combine(directory, "fault-p50-arch-arm64.svg"));
            Assert.Contains("fault_p50 by cpus, arch=arm64", svg, StringComparison.Ordinal);
            Assert.Equal(["direct-map", "per-folio"], System.Text.RegularExpressions.Regex.Matches(svg, "data-series=\"([^\"]*)\"").Select(m => m.Groups[1].Value));
            Assert.Contains("](fault-p99-arch-arm64.svg)", File.ReadAllText(Path.Combine(directory, "report.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Sweep_bundle_writes_one_line_chart_per_metric()
    {
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-bundle-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<string> names = ReportBundle.Write(directory, CannedSweep.Full());

            Assert.Contains("fault-p99.svg", names);
            Assert.Contains("populate-bytes-per-sim-second.svg", names);
            Assert.Contains("sweep.json", names);
            Assert.Contains("](fault-p50.svg)", File.ReadAllText(Path.Combine(directory, "report.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
