using System.Globalization;
using PerfSim.Reporting;

namespace PerfSim.Cli.Tests;

public sealed class RunReportFormatTests : IDisposable
{
    private static readonly string[] s_tiny = ["--ram", "512M", "--guest-memory", "16M", "--cpus", "4", "--vcpus", "2"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(["run", .. s_tiny, .. args]);

    [Fact]
    public void Every_format_prints_the_same_run_with_invariant_numbers_even_under_a_comma_culture()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CommaDecimal();
        try
        {
            var text = Run("--no-report");
            var json = Run("--no-report", "--format", "json");
            var markdown = Run("--no-report", "--format", "markdown");
            var csv = Run("--no-report", "--format", "csv");

            RunReport report = ReportJson.Parse(json.Out, "stdout");
            Assert.All(new[] { text, json, markdown, csv }, r => Assert.Equal((0, ""), (r.Code, r.Err)));
            Assert.Matches(@"^PerfSim run: guest-boot: [a-z0-9-]+ on [a-z0-9_-]+, \d+ CPUs, \d+ vCPUs, guest \S+ \w+, host \S+ \w+, seed \d+\nmetric ", text.Out);
            Assert.Matches($@"\ndigest +{report.Digest}\n", text.Out);
            Assert.StartsWith("# ", markdown.Out, StringComparison.Ordinal);
            Assert.Contains(report.Digest, markdown.Out, StringComparison.Ordinal);
            string[] rows = csv.Out.TrimEnd('\n').Split('\n');
            Assert.Equal(2, rows.Length);
            Assert.Equal(rows[0].Split(',').Length, rows[1].Split(',').Length);
            Assert.Contains(report.Sim.FaultsPerSimSecond.ToString("R", CultureInfo.InvariantCulture), rows[1], StringComparison.Ordinal);
            // A comma culture would print "0,078" for wall seconds or "1,05G" for rates.
            Assert.DoesNotMatch(@"\d,\d", text.Out);
            Assert.DoesNotContain("\u2212", text.Out + json.Out + markdown.Out + csv.Out, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Run_writes_the_report_bundle_and_a_bad_format_is_refused()
    {
        var (code, _, _) = Run("--out", _dir["out"]);
        var bad = Run("--format", "yaml", "--out", _dir["bad"]);

        Assert.Equal(0, code);
        Assert.True(File.Exists(_dir["out/report.json"]));
        Assert.True(File.Exists(_dir["out/report.md"]));
        Assert.Equal((2, "", "perfsim: --format: 'yaml' is not one of text, json, markdown, csv\n"), bad);
        Assert.False(Directory.Exists(_dir["bad"]));
    }

    [Fact]
    public void Repeat_records_one_wall_sample_per_run_of_the_same_simulation()
    {
        var (code, _, err) = Run("--repeat", "3", "--out", _dir["out"]);

        Assert.Equal(0, code);
        Assert.StartsWith("perfsim: wrote ", err, StringComparison.Ordinal);
        RunReport repeated = ReportJson.ReadFile(_dir["out/report.json"]);
        Assert.Equal(3, repeated.Wall.FaultsPerWallSecondSamples!.Count);
        Assert.All(repeated.Wall.FaultsPerWallSecondSamples, s => Assert.True(s > 0));
        Assert.Equal(repeated.Wall.FaultsPerWallSecondSamples.Order().ElementAt(1), repeated.Wall.FaultsPerWallSecond);

        Assert.Equal(0, Run("--out", _dir["once"]).Code);
        RunReport once = ReportJson.ReadFile(_dir["once/report.json"]);
        Assert.Null(once.Wall.FaultsPerWallSecondSamples);
        Assert.Equal(once.Digest, repeated.Digest);
        Assert.Equal(once.Counters, repeated.Counters);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("two")]
    public void Repeat_out_of_range_is_refused(string repeat)
    {
        Assert.Equal((2, "", $"perfsim: --repeat: '{repeat}' is not an integer from 1 to 100\n"), Run("--repeat", repeat, "--no-report"));
    }

    public static TheoryData<string, string, string, string> BadInputFiles => new()
    {
        // option, file name, contents, expected fragment of the one-line error
        { "scenario", "scenario.json", """{"cpus": 4, "colour": "blue"}""", "scenario.json: $.colour: unknown field; accepted: scenario, strategy," },
        { "scenario", "scenario.json", """{"cpus": "four"}""", "scenario.json: $.cpus: 'four' is not an integer from 1 to 1024" },
        { "scenario", "scenario.json", """{"cpus": 4096}""", "scenario.json: $.cpus: '4096' is not an integer from 1 to 1024" },
        { "scenario", "scenario.json", """{"cpus": [4]}""", "scenario.json: $.cpus: found array, expected an integer from 1 to 1024" },
        { "scenario", "scenario.json", """{"cpus": 4""", "scenario.json: not valid JSON (line 1, byte" },
        { "scenario", "scenario.json", "[1]", "scenario.json: $: expected a JSON object of scenario fields" },
        { "cost-profile", "costs.json", """{"nope": 1}""", "costs.json: cost profile: unknown field 'nope' (accepted: arch," },
        { "cost-profile", "costs.json", """{""", "costs.json: cost profile: not valid JSON" },
        { "e820", "e820.txt", "BIOS-e820: [mem 0x0000000000000000-0x00000000zzzzzzzz] usable\n", "e820.txt:1: not an e820 line: expected 'BIOS-e820: [mem 0xSTART-0xEND] TYPE'" },
        { "e820", "e820.txt", "", "e820.txt: no usable RAM range" },
        { "meminfo", "meminfo.txt", "DirectMap4k: lots kB\n", "meminfo.txt:1: expected 'DirectMap4k|DirectMap2M|DirectMap1G: N kB'" },
        { "meminfo", "meminfo.txt", "MemTotal: 1 kB\n", "meminfo.txt: needs 'DirectMap4k: N kB'" },
    };

    [Theory]
    [MemberData(nameof(BadInputFiles))]
    public void A_bad_input_file_is_one_line_naming_it_with_exit_2_and_nothing_written(string option, string name, string contents, string expected)
    {
        string path = _dir.File(name, contents);
        string[] host = option is "e820" or "meminfo" ? [] : ["--ram", "512M"];

        var (code, output, err) = CliRunner.Run(["run", .. host, "--guest-memory", "16M", "--cpus", "4", "--vcpus", "2", $"--{option}", path, "--out", _dir["out"]]);

        Assert.Equal((2, ""), (code, output));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [Theory]
    [InlineData("scenario", "neither a built-in scenario")]
    [InlineData("cost-profile", "--cost-profile: cannot read")]
    [InlineData("e820", "--e820: cannot read")]
    [InlineData("meminfo", "--meminfo: cannot read")]
    public void A_missing_input_file_is_one_line_with_exit_2(string option, string expected)
    {
        var (code, output, err) = CliRunner.Run("run", $"--{option}", _dir["missing.txt"], "--out", _dir["out"]);

        Assert.Equal((2, ""), (code, output));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Contains("missing.txt", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    private static CultureInfo CommaDecimal()
    {
        // InvariantGlobalization has no de-DE: build one with its separators.
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.PercentDecimalSeparator = ",";
        culture.NumberFormat.NegativeSign = "\u2212";
        return culture;
    }
}
