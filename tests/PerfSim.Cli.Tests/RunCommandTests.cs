using PerfSim.Reporting;

namespace PerfSim.Cli.Tests;

public sealed class RunCommandTests
{
    private static readonly string[] s_small = ["--cpus", "8", "--vcpus", "2", "--ram", "1G", "--guest-memory", "8M"];

    [Fact]
    public void A_run_writes_a_report_with_the_documented_keys_and_prints_a_summary()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perfsim-run-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = CliRunner.Run(["run", .. s_small, "--out", dir]);

            Assert.Equal(0, code);
            Assert.StartsWith($"perfsim: wrote {Path.Combine(dir, "report.json")}, report.md, report.csv and ", err, StringComparison.Ordinal);
            Assert.EndsWith(" charts\n", err, StringComparison.Ordinal);
            Assert.Contains("PerfSim run: guest-boot", output, StringComparison.Ordinal);
            RunReport report = ReportJson.ReadFile(Path.Combine(dir, "report.json"));
            Assert.Equal("guest-boot", report.Scenario);
            Assert.Equal(2048 + 512, report.Counter("faults"));
            Assert.All(CounterNames.Required, name => Assert.True(report.Counters.ContainsKey(name), name));
            Assert.Equal("per-folio", report.Config["strategy"]!.GetValue<string>());
            Assert.Equal(1L << 30, report.Config["ram"]!.GetValue<long>());
            Assert.Null(report.Config["pages"]);
            Assert.NotNull(report.Config["cost_profile"]);
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
            Assert.True(File.Exists(Path.Combine(dir, "latency.svg")));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("json", "\"schema\": \"perfsim.report/1\"")]
    [InlineData("csv", "faults,")]
    [InlineData("markdown", "| metric |")]
    public void The_summary_format_is_selectable(string format, string expected)
    {
        var (code, output, _) = CliRunner.Run(["run", .. s_small, "--no-report", "--format", format]);

        Assert.Equal(0, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--scenario", "boot", "--scenario: 'boot' is neither a built-in scenario")]
    [InlineData("--strategy", "lazy", "--strategy: 'lazy' is not one of none, per-folio, per-folio-v12, filemap, unmapped-alloc")]
    [InlineData("--arch", "riscv", "--arch: 'riscv' is not one of x86_64, x86_64-invlpgb, arm64, arm64-bbml2")]
    [InlineData("--cpus", "0", "--cpus: '0' is not an integer from 1 to 1024")]
    [InlineData("--cpus", "2000", "--cpus: '2000' is not an integer from 1 to 1024")]
    [InlineData("--vcpus", "x", "--vcpus: 'x' is not an integer from 1 to 1024")]
    [InlineData("--ram", "1M", "--ram: '1M' is not a size from 256 MiB to 4 TiB")]
    [InlineData("--guest-memory", "5Q", "--guest-memory: '5Q' is not a size from 4 KiB to 4 TiB")]
    [InlineData("--pages", "-3", "--pages: '-3' is not an integer from 1 to 268435456")]
    [InlineData("--passes", "0", "--passes: '0' is not an integer from 1 to 1000")]
    [InlineData("--threads", "999", "--threads: '999' is not an integer from 1 to 256")]
    [InlineData("--seed", "abc", "--seed: 'abc' is not an integer from 0 to")]
    [InlineData("--populate", "dma", "--populate: 'dma' is not one of memcpy, write-directmap, write-mermap, gmem-populate")]
    [InlineData("--populate-fraction", "1.5", "--populate-fraction: '1.5' is not a number from 0 to 1")]
    [InlineData("--folio-order", "3", "--folio-order: '3' is not 0 or 9")]
    [InlineData("--vms", "0", "--vms: '0' is not an integer from 1 to 1024")]
    [InlineData("--background-accesses", "5000", "--background-accesses: '5000' is not an integer from 0 to 1000")]
    [InlineData("--jump-probability", "-1", "--jump-probability: '-1' is not a number from 0 to 1")]
    [InlineData("--gbpages", "yes", "--gbpages: 'yes' is not one of on, off")]
    [InlineData("--rodata", "half", "--rodata: 'half' is not one of full, off")]
    [InlineData("--format", "xml", "--format: 'xml' is not one of text, json, markdown, csv")]
    [InlineData("--e820", "/no/such/file", "--e820: cannot read '/no/such/file'")]
    [InlineData("--cost-profile", "/no/such/file", "--cost-profile: cannot read '/no/such/file'")]
    [InlineData("--warp", "9", "unknown option --warp")]
    public void Every_bad_option_gives_one_line_exit_2_and_no_report(string option, string value, string expected)
    {
        string dir = Path.Combine(Path.GetTempPath(), "perfsim-bad-" + Guid.NewGuid().ToString("N"));

        var (code, output, err) = CliRunner.Run(["run", .. SmallWithout(option), option, value, "--out", dir]);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.False(Directory.Exists(dir), "nothing is written on bad input");
    }

    /// <summary>The small base options, minus the one under test (and --ram when the host comes from a file).</summary>
    private static string[] SmallWithout(string option)
    {
        var args = new List<string>();
        for (int i = 0; i < s_small.Length; i += 2)
        {
            bool replaced = s_small[i] == option || (s_small[i] == "--ram" && option is "--e820" or "--meminfo");
            if (!replaced)
            {
                args.Add(s_small[i]);
                args.Add(s_small[i + 1]);
            }
        }

        return [.. args];
    }

    [Theory]
    [InlineData("{\"cpus\": 4, \"warp\": 1}", "$.warp: unknown field; accepted: scenario, strategy")]
    [InlineData("{\"cpus\": \"many\"}", "$.cpus: 'many' is not an integer from 1 to 1024")]
    [InlineData("{\"cpus\": [1]}", "$.cpus: found array, expected an integer from 1 to 1024")]
    [InlineData("{\"vcpus\": 4, \"cpus\": 2}", "vcpus (4) must be at most cpus (2)")]
    [InlineData("{\"cpus\": 4,", "not valid JSON (line 1")]
    [InlineData("[1, 2]", "$: expected a JSON object of scenario fields")]
    [InlineData("{\"guest_memory\": \"64G\", \"ram\": \"1G\"}", "does not fit in 90% of the host's 1 GiB of RAM")]
    [InlineData("{\"cost_profile\": {\"invlpg_ns\": -5}}", "cost profile field 'invlpg_ns' must be an integer number of ns in [0, 1000000]")]
    public void A_bad_scenario_file_names_the_file_and_field(string json, string expected)
    {
        using var file = new CliRunner.TempFile(json);

        var (code, _, err) = CliRunner.Run("run", "--scenario", file.Path, "--no-report");

        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void The_report_config_records_the_quantum_the_results_depend_on()
    {
        var (code, output, err) = CliRunner.Run(["run", .. s_small, "--quantum-ns", "50000", "--no-report", "--format", "json"]);

        Assert.Equal((0, ""), (code, err));
        Assert.Equal(50_000, ReportJson.Parse(output).Config["quantum_ns"]!.GetValue<long>());
    }

    [Fact]
    public void A_scenario_file_sets_fields_and_options_override_it()
    {
        using var file = new CliRunner.TempFile("{\"scenario\": \"secretmem-touch\", \"pages\": 64, \"vcpus\": 2, \"cpus\": 4, \"ram\": \"512M\", \"strategy\": \"none\"}");

        var (code, output, err) = CliRunner.Run("run", "--scenario", file.Path, "--pages", "32", "--no-report", "--format", "json");

        Assert.Equal((0, ""), (code, err));
        RunReport report = ReportJson.Parse(output);
        Assert.Equal("secretmem-touch", report.Scenario);
        Assert.Equal(32, report.Counter("faults"));
        Assert.Equal(32, report.Counter("flush_kernel_range"));
    }

    [Fact]
    public void Scenarios_are_listed()
    {
        var (code, output, _) = CliRunner.Run("scenarios");

        Assert.Equal(0, code);
        Assert.Contains("guest-boot", output, StringComparison.Ordinal);
        Assert.Contains("snapshot-restore", output, StringComparison.Ordinal);
        Assert.Contains("cost_profile", output, StringComparison.Ordinal);
    }
}
