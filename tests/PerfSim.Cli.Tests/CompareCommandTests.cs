namespace PerfSim.Cli.Tests;

/// <summary>
/// <c>perfsim compare</c> on files written by <c>perfsim run</c> and <c>perfsim sweep</c>: one
/// test per exit code. The statistics themselves are tested on canned data in PerfSim.Reporting.Tests.
/// </summary>
public sealed class CompareCommandTests : IClassFixture<CompareCommandTests.Reports>
{
    private readonly Reports _reports;

    public CompareCommandTests(Reports reports) => _reports = reports;

    /// <summary>Run reports and sweeps produced once for all tests of this class.</summary>
    public sealed class Reports : IDisposable
    {
        private static readonly string[] s_tiny = ["--ram", "512M", "--guest-memory", "16M", "--cpus", "4", "--vcpus", "2"];

        public Reports()
        {
            Baseline = Produce("baseline", "run", "--repeat", "3");
            Same = Produce("same", "run", "--repeat", "3");
            NoneStrategy = Produce("none", "run", "--strategy", "none", "--repeat", "3");
            OtherSeed = Produce("seed2", "run", "--seed", "2", "--repeat", "3");
            Sweep = Produce("sweep", "sweep", "--vary", "strategy=none,per-folio");
            SweepAgain = Produce("sweep-again", "sweep", "--vary", "strategy=none,per-folio");
        }

        internal TempDirectory Dir { get; } = new();

        public string Baseline { get; }

        public string Same { get; }

        /// <summary>The baseline's configuration (per-folio) with strategy none: no zaps, faster faults.</summary>
        public string NoneStrategy { get; }

        public string OtherSeed { get; }

        public string Sweep { get; }

        public string SweepAgain { get; }

        public void Dispose() => Dir.Dispose();

        private string Produce(string name, string command, params string[] args)
        {
            var (code, _, err) = CliRunner.Run([command, .. s_tiny, .. args, "--out", Dir[name]]);
            Assert.True(code == 0, err);
            return Path.Combine(Dir[name], command == "run" ? "report.json" : "sweep.json");
        }
    }

    [Fact]
    public void Two_runs_of_the_same_configuration_exit_0_and_wall_figures_are_judged_on_the_samples()
    {
        var (code, output, err) = CliRunner.Run("compare", _reports.Baseline, _reports.Same);

        Assert.Equal((0, ""), (code, err));
        Assert.Matches(@"Same: \d+ rows\n(.*\n)*run +counters\.faults +\d+ +\d+ +1\.000", output);
        Assert.Matches(@"Same: \d+ rows\n(.*\n)*run +digest ", output);
        // Three samples per side are enough for the rank test to run (never a single-sample call).
        Assert.Matches(@"run +wall\.faults_per_wall_second .* faults/s +p=\d\.\d{4}, n=3/3", output);
        Assert.Contains("no regression", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_costlier_design_is_a_regression_exit_1_with_a_markdown_table()
    {
        using var dir = new TempDirectory();

        var (code, output, err) = CliRunner.Run("compare", _reports.NoneStrategy, _reports.Baseline, "--out", dir["compare.md"]);

        Assert.Equal((1, ""), (code, err));
        Assert.Matches(@"Slower: \d+ rows.*\n(.*\n)*run +counters\.dm_zaps +n/a +0 +\d+", output);
        Assert.Matches(@"Slower: \d+ rows.*\n(.*\n)*run +latency_ns\.fault\.p50 +\d+\.\d{2}x +\d+ +\d+ +ns", output);
        Assert.Contains("REGRESSION", output, StringComparison.Ordinal);
        string md = File.ReadAllText(dir["compare.md"]);
        Assert.StartsWith("# PerfSim comparison: PerfSim run report\n", md, StringComparison.Ordinal);
        Assert.Contains("| run | counters.dm_zaps | n/a | 0 |", md, StringComparison.Ordinal);
        Assert.Contains("**", md, StringComparison.Ordinal);

        // The other way round the design got cheaper: Faster, nothing regressed.
        Assert.Equal(0, CliRunner.Run("compare", _reports.Baseline, _reports.NoneStrategy, "--metric", "counters.dm_zaps", "--metric", "latency_ns.fault.*").Code);
    }

    [Fact]
    public void Simulated_figures_are_exact_by_default_and_within_the_threshold_when_one_is_given()
    {
        string[] metrics = ["--metric", "latency_ns.fault.p50", "--metric", "counters.faults"];

        var exact = CliRunner.Run(["compare", _reports.Baseline, _reports.OtherSeed, "--metric", "digest"]);
        var tolerant = CliRunner.Run(["compare", _reports.Baseline, _reports.OtherSeed, "--threshold", "50%", .. metrics]);

        Assert.Equal(1, exact.Code);
        Assert.Matches(@"Changed \(no better direction\): 1 row\n(.*\n)*run +digest +n/a +[0-9a-f]+ -> [0-9a-f]+", exact.Out);
        Assert.Equal((0, ""), (tolerant.Code, tolerant.Err));
        Assert.DoesNotContain("digest", tolerant.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_sweeps_are_matched_run_by_run()
    {
        var (code, output, _) = CliRunner.Run("compare", _reports.Sweep, _reports.SweepAgain, "--format", "markdown");

        Assert.Equal(0, code);
        Assert.StartsWith("# PerfSim comparison: PerfSim sweep\n", output, StringComparison.Ordinal);
        Assert.Contains("| strategy=per-folio | counters.dm_zaps |", output, StringComparison.Ordinal);
        // One wall sample per sweep run: the comparer refuses to judge rather than compare single samples.
        Assert.Matches(@"## Inconclusive: \d+ rows\n(.*\n)*\| strategy=none \| wall\.faults_per_wall_second \| .* \| faults/s \| n=1/1, needs 3 per side \|", output);
    }

    [Fact]
    public void BenchmarkDotNet_full_reports_are_compared_with_the_rank_test()
    {
        using var dir = new TempDirectory();
        string baseline = dir.File("base.json", Bdn(100, 101, 99, 100, 102));
        string slower = dir.File("slow.json", Bdn(150, 151, 149, 150, 152));

        var (code, output, _) = CliRunner.Run("compare", baseline, slower);

        Assert.Equal(1, code);
        Assert.Matches(@"Slower: 1 row.*\n(.*\n)*Bench\.Flush +time +1\.50x +100 +150 +ns +p=0\.\d{4}, n=5/5", output);
    }

    // The fields of a BenchmarkDotNet full JSON report the comparer reads; BDN writes many more.
    private static string Bdn(params int[] ns) =>
        "{\"Title\": \"canned\", \"Benchmarks\": [{\"FullName\": \"Bench.Flush\", \"Statistics\": {\"OriginalValues\": [" + string.Join(", ", ns) + "]}}]}";

    public static TheoryData<string[], string> Unusable => new()
    {
        { ["MISSING"], "expected two files, BASELINE and CURRENT, got 1" },
        { ["BASE", "missing.json"], "missing.json: file not found" },
        { ["BASE", "truncated.json"], "truncated.json: invalid or truncated JSON at line" },
        { ["BASE", "unknown-key.json"], "unknown-key.json: $.colour: found an unknown key \"colour\", expected one of: schema, config," },
        { ["BASE", "wrong-type.json"], "wrong-type.json: $.counters.faults: found \"many\" (a string), expected a non-negative integer" },
        { ["BASE", "negative.json"], "negative.json: $.counters.faults: found -1, expected a non-negative integer" },
        { ["BASE", "SWEEP"], "sweep.json: $: found a PerfSim sweep, expected the same kind of result as" },
        { ["BASE", "not-a-report.json"], "not-a-report.json: $: found an object, expected a PerfSim report" },
        { ["BASE", "BASE", "--metric", "nothing.*"], "--metric: found no metric matching nothing.*" },
        { ["BASE", "BASE", "--threshold", "five"], "--threshold: 'five' is not a percentage from 0% to 1000%" },
        { ["BASE", "BASE", "--noise", "-1ns"], "--noise: '-1ns' is not a non-negative duration in ns" },
        { ["BASE", "BASE", "--format", "csv"], "--format: 'csv' is not one of text, markdown" },
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public void Unusable_input_exits_2_with_one_line_and_writes_no_markdown(string[] args, string expected)
    {
        using var dir = new TempDirectory();
        string report = File.ReadAllText(_reports.Baseline);
        dir.File("truncated.json", report[..(report.Length / 2)]);
        dir.File("unknown-key.json", report.Replace("\"scenario\": \"guest-boot\"", "\"scenario\": \"guest-boot\", \"colour\": 1", StringComparison.Ordinal));
        dir.File("wrong-type.json", ReplaceFaults(report, "\"many\""));
        dir.File("negative.json", ReplaceFaults(report, "-1"));
        dir.File("not-a-report.json", "{\"runs\": []}");
        string[] resolved = [.. args.Select(a => a switch
        {
            "BASE" => _reports.Baseline,
            "SWEEP" => _reports.Sweep,
            _ when a.EndsWith(".json", StringComparison.Ordinal) => dir[a],
            _ => a,
        })];

        var (code, output, err) = CliRunner.Run(["compare", .. resolved, "--out", dir["compare.md"]]);

        Assert.Equal((2, ""), (code, output));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.False(File.Exists(dir["compare.md"]));
    }

    private static string ReplaceFaults(string report, string value)
    {
        const string Key = "\"faults\": ";
        int start = report.IndexOf(Key, report.IndexOf("\"counters\"", StringComparison.Ordinal), StringComparison.Ordinal) + Key.Length;
        int end = report.IndexOf(',', start);
        return report[..start] + value + report[end..];
    }
}
