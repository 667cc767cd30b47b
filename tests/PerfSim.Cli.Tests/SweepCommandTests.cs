using PerfSim.Reporting.Sweeps;

namespace PerfSim.Cli.Tests;

public sealed class SweepCommandTests : IDisposable
{
    // A tiny host and guest so each run takes a few milliseconds.
    private static readonly string[] s_tiny = ["--ram", "512M", "--guest-memory", "16M", "--vcpus", "2"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (int Code, string Out, string Err) Sweep(string outName, params string[] args) =>
        CliRunner.Run(["sweep", .. args, .. s_tiny, "--out", _dir[outName]]);

    [Fact]
    public void Merged_shards_equal_the_unsharded_sweep()
    {
        string[] vary = ["--vary", "strategy=none,per-folio,unmapped-alloc", "--vary", "cpus=2,4"];
        Assert.Equal(0, Sweep("all", vary).Code);
        for (int i = 1; i <= 4; i++)
        {
            Assert.Equal(0, Sweep($"shard{i}", [.. vary, "--shard", $"{i}/4"]).Code);
        }

        // One shard as a file, the others as directories: merge accepts both.
        var (code, _, err) = CliRunner.Run("merge", _dir["merged"], _dir["shard1"], _dir["shard2"], Path.Combine(_dir["shard3"], "sweep.json"), _dir["shard4"]);

        Assert.Equal(0, code);
        Assert.StartsWith($"perfsim: wrote {Path.Combine(_dir["merged"], "sweep.json")}, report.md, report.csv and ", err, StringComparison.Ordinal);
        SweepReport shard2 = SweepJson.ReadFile(Path.Combine(_dir["shard2"], "sweep.json"));
        Assert.Equal(new ShardInfo(1, 4), shard2.Shard);
        Assert.Equal([1, 5], shard2.Runs.Select(r => r.Ordinal));
        // Round-robin: shard i of n holds the ordinals with ordinal % n == i - 1.
        Assert.Equal("strategy=none,cpus=4", shard2.Runs[0].Key);
        Assert.Equal(
            WithoutWall(File.ReadAllText(Path.Combine(_dir["all"], "sweep.json"))),
            WithoutWall(File.ReadAllText(Path.Combine(_dir["merged"], "sweep.json"))));
        Assert.DoesNotContain("\"shard\"", File.ReadAllText(Path.Combine(_dir["merged"], "sweep.json")), StringComparison.Ordinal);
    }

    /// <summary>
    /// sweep.json minus the wall-clock figures, which measure PerfSim on the host and differ
    /// from run to run; every other byte of a merged sweep must equal the unsharded one.
    /// </summary>
    internal static string WithoutWall(string sweepJson)
    {
        SweepReport sweep = SweepJson.Parse(sweepJson);
        return SweepJson.Serialize(sweep with
        {
            Runs = [.. sweep.Runs.Select(r => r with { Report = r.Report with { Wall = r.Report.Wall with { Seconds = 0, FaultsPerWallSecond = 0 } } })],
        });
    }

    [Fact]
    public void A_sweep_writes_json_csv_markdown_and_one_chart_per_facet_with_a_line_per_strategy()
    {
        var (code, output, err) = Sweep("out", "--vary", "populate=memcpy,write-mermap", "--vary", "strategy=none,per-folio", "--vary", "cpus=2,4");

        Assert.Equal(0, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("perfsim: wrote ", err, StringComparison.Ordinal);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2 + 8, lines.Length);
        Assert.StartsWith("populate", lines[0], StringComparison.Ordinal);

        string csv = File.ReadAllText(_dir["out/report.csv"]);
        string[] rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(9, rows.Length);
        Assert.StartsWith("ordinal,populate,strategy,cpus,scenario,arch,vcpus,guest_memory,ram,seed,faults,", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("7,write-mermap,per-folio,4,guest-boot,", rows[8], StringComparison.Ordinal);

        string md = File.ReadAllText(_dir["out/report.md"]);
        foreach (string chart in new[] { "fault-p50-populate-memcpy.svg", "fault-p99-populate-write-mermap.svg", "populate-bytes-per-sim-second-populate-memcpy.svg" })
        {
            Assert.Contains($"]({chart})", md, StringComparison.Ordinal);
            string svg = File.ReadAllText(Path.Combine(_dir["out"], chart));
            Assert.Contains("data-series=\"none\"", svg, StringComparison.Ordinal);
            Assert.Contains("data-series=\"per-folio\"", svg, StringComparison.Ordinal);
        }

        Assert.Equal(8, SweepJson.ReadFile(_dir["out/sweep.json"]).Runs.Count);
    }

    [Fact]
    public void A_matrix_file_gives_the_same_runs_as_vary_options_and_base_fields_apply_to_every_run()
    {
        string matrix = _dir.File("matrix.json", """
            {"vary": {"strategy": ["none", "filemap"], "cpus": [2, 4]}, "base": {"guest_memory": "16M", "populate-fraction": 0.5}}
            """);
        Assert.Equal(0, CliRunner.Run("sweep", "--matrix", matrix, "--ram", "512M", "--vcpus", "2", "--out", _dir["m"]).Code);
        Assert.Equal(0, Sweep("v", "--vary", "strategy=none,filemap", "--vary", "cpus=2,4", "--populate-fraction", "0.5").Code);

        SweepReport fromFile = SweepJson.ReadFile(_dir["m/sweep.json"]);
        SweepReport fromOptions = SweepJson.ReadFile(_dir["v/sweep.json"]);
        Assert.True(fromFile.HasSameMatrix(fromOptions));
        Assert.Equal(fromOptions.Runs.Select(r => r.Report.Digest), fromFile.Runs.Select(r => r.Report.Digest));
        Assert.All(fromFile.Runs, r => Assert.Equal(0.5, (double)r.Report.Config["populate_fraction"]!));
    }

    [Fact]
    public void Write_via_the_direct_map_is_refused_by_the_designs_that_remove_it_and_the_sweep_shows_it()
    {
        var (code, _, _) = Sweep("out", "--vary", "strategy=per-folio,filemap,unmapped-alloc", "--cpus", "4", "--populate", "write-directmap");

        Assert.Equal(0, code);
        SweepReport sweep = SweepJson.ReadFile(_dir["out/sweep.json"]);
        Assert.Equal([0L, 1024L, 1024L], sweep.Runs.Select(r => r.Report.Counter("write_refused")));
        Assert.Equal([false, true, true], sweep.Runs.Select(r => r.Report.Sim.PopulateBytesPerSimSecond == 0));
    }

    [Fact]
    public void Progress_goes_to_standard_error_only_when_it_is_a_terminal()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(
            ["sweep", "--vary", "cpus=2,4", .. s_tiny, "--out", _dir["tty"]], TextReader.Null, stdinIsTerminal: false, stdout, stderr, stderrIsTerminal: true);

        Assert.Equal(0, code);
        Assert.Contains("[1/2] cpus=2: 100% (", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("[2/2] cpus=4: 100% (boot, phase 2/2), ", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("[1/2]", stdout.ToString(), StringComparison.Ordinal);
        // A short sweep into a log: no progress lines, only what was written.
        Assert.StartsWith("perfsim: wrote ", Sweep("notty", "--vary", "cpus=2,4").Err, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadMatrices => new()
    {
        { "", "matrix.json: invalid or truncated JSON at line 1" },
        { """{"vary": {"cpus": [2, 4]""", "matrix.json: invalid or truncated JSON" },
        { """[]""", "matrix.json: $: found an array of 0 items, expected an object" },
        { """{"vary": {"cpus": [2]}, "bases": {}}""", "matrix.json: $.bases: found an unknown key \"bases\", expected one of: vary, base" },
        { """{"base": {"cpus": 2}}""", "matrix.json: $.vary: found nothing (the field is missing)" },
        { """{"vary": {}}""", "matrix.json: $.vary: found an object, expected at least one scenario field to vary" },
        { """{"vary": {"cpus": 4}}""", "matrix.json: $.vary.cpus: found 4, expected an array of at least 1 items" },
        { """{"vary": {"cpus": []}}""", "matrix.json: $.vary.cpus: found an array of 0 items, expected an array of at least 1 items" },
        { """{"vary": {"cpu": [2]}}""", "matrix.json: $.vary.cpu: found an unknown scenario field \"cpu\", expected one of: scenario, strategy," },
        { """{"vary": {"cpus": [2, 2000]}}""", "matrix.json: $.vary.cpus[1]: '2000' is not an integer from 1 to 1024" },
        { """{"vary": {"cpus": [2, null]}}""", "matrix.json: $.vary.cpus[1]: found null, expected a string, a number or true/false" },
        { """{"vary": {"strategy": ["none", "per-page"]}}""", "matrix.json: $.vary.strategy[1]: 'per-page' is not one of none, per-folio," },
        { """{"vary": {"strategy": ["none", "none"]}}""", "matrix.json: $.vary.strategy[1]: 'none' is listed twice" },
        { """{"vary": {"cpus": [2]}, "base": {"cpus": 4}}""", "matrix.json: $.base.cpus: found 4, expected no value: cpus is varied in $.vary" },
        { """{"vary": {"cpus": [2]}, "base": {"guest-memory": "16Q"}}""", "matrix.json: $.base['guest-memory']: '16Q' is not a size from 4 KiB to 4 TiB" },
        { """{"vary": {"cpus": [2]}, "base": {"colour": "blue"}}""", "matrix.json: $.base.colour: found an unknown scenario field \"colour\"" },
        { """{"vary": {"cpus": [2]}, "vary": {"cpus": [4]}}""", "matrix.json: a key is given twice" },
    };

    [Theory]
    [MemberData(nameof(BadMatrices))]
    public void A_bad_matrix_file_is_one_line_naming_file_and_path_with_exit_2_and_nothing_written(string json, string expected)
    {
        string matrix = _dir.File("matrix.json", json);

        var (code, output, err) = CliRunner.Run("sweep", "--matrix", matrix, "--out", _dir["out"]);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [Theory]
    [InlineData(new[] { "--matrix", "missing.json" }, "missing.json: file not found")]
    [InlineData(new string[0], "give --matrix FILE or --vary KEY=V1,V2,...")]
    [InlineData(new[] { "--vary", "cpus" }, "--vary: 'cpus' is not KEY=V1,V2,...")]
    [InlineData(new[] { "--vary", "cpus=" }, "--vary: 'cpus=' is not KEY=V1,V2,...")]
    [InlineData(new[] { "--vary", "cpu=2" }, "--vary cpu: unknown scenario field; accepted: scenario, strategy,")]
    [InlineData(new[] { "--vary", "cpus=2,,4" }, "--vary cpus: '' is not a value")]
    [InlineData(new[] { "--vary", "cpus=2,x" }, "--vary cpus: 'x' is not an integer from 1 to 1024")]
    [InlineData(new[] { "--vary", "cpus=2", "--vary", "cpus=4" }, "--vary cpus: given twice")]
    [InlineData(new[] { "--vary", "cpus=2,4", "--cpus", "4" }, "--cpus: also varied by --vary; give it in one place")]
    [InlineData(new[] { "--vary", "cpus=2,4", "--matrix", "m.json" }, "--matrix and --vary cannot be combined")]
    [InlineData(new[] { "--vary", "cpus=1,2" }, "run cpus=1: vcpus (2) must be at most cpus (1)")]
    [InlineData(new[] { "--vary", "cpus=2,4", "--shard", "3/2" }, "--shard: '3/2' is not I/N with 1 <= I <= N <= 2")]
    [InlineData(new[] { "--vary", "cpus=2,4", "--shard", "0/2" }, "--shard: '0/2' is not I/N")]
    [InlineData(new[] { "--vary", "cpus=2,4", "--shard", "1/3" }, "--shard: '1/3' is not I/N with 1 <= I <= N <= 2")]
    [InlineData(new[] { "--vary", "ram=512M,1G", "--meminfo", "m.txt" }, "--vary: ram cannot be varied with --e820 or --meminfo")]
    public void Bad_sweep_options_are_one_line_with_exit_2_and_nothing_written(string[] args, string expected)
    {
        // Every case fails before the first run, so no host size is needed.
        var (code, output, err) = CliRunner.Run(["sweep", .. args, "--guest-memory", "16M", "--vcpus", "2", "--out", _dir["out"]]);

        Assert.Equal((2, ""), (code, output));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [Fact]
    public void A_run_refused_mid_sweep_names_the_run_and_leaves_nothing_written()
    {
        // The first run fits; the second asks for more guest memory than the host has.
        var (code, output, err) = CliRunner.Run("sweep", "--vary", "guest-memory=16M,1G", "--ram", "512M", "--vcpus", "2", "--out", _dir["out"]);

        Assert.Equal((2, ""), (code, output));
        Assert.StartsWith("perfsim: run guest-memory=1G: guest_memory: 1 GiB of guest memory does not fit", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [Fact]
    public void Merge_refuses_incomplete_or_overlapping_shards_and_writes_nothing()
    {
        string[] vary = ["--vary", "cpus=2,4,8"];
        Assert.Equal(0, Sweep("s1", [.. vary, "--shard", "1/2"]).Code);
        Assert.Equal(0, Sweep("s2", [.. vary, "--shard", "2/2"]).Code);
        Assert.Equal(0, Sweep("other", "--vary", "cpus=2,4").Code);

        var missing = CliRunner.Run("merge", _dir["out"], _dir["s1"]);
        var twice = CliRunner.Run("merge", _dir["out"], _dir["s1"], _dir["s2"], _dir["s1"]);
        var otherMatrix = CliRunner.Run("merge", _dir["out"], _dir["s1"], _dir["other"]);
        var noShard = CliRunner.Run("merge", _dir["out"]);
        var notFound = CliRunner.Run("merge", _dir["out"], _dir["s1"], _dir["nope"]);
        var intoInput = CliRunner.Run("merge", _dir["s1"], _dir["s1"], _dir["s2"]);
        string whole = File.ReadAllText(Path.Combine(_dir["s2"], "sweep.json"));
        var truncated = CliRunner.Run("merge", _dir["out"], _dir["s1"], _dir.File("truncated.json", whole[..(whole.Length / 2)]));
        var unknownKey = CliRunner.Run("merge", _dir["out"], _dir["s1"], _dir.File("unknown.json", whole.Replace("\"runs\":", "\"colour\": 1, \"runs\":", StringComparison.Ordinal)));

        Assert.Contains("found 2 of 3 runs, expected every run of the matrix; missing ordinal(s) 1 (cpus=4)", missing.Err, StringComparison.Ordinal);
        Assert.Contains("$.shard.index: found 0, also in", twice.Err, StringComparison.Ordinal);
        Assert.Contains("other/sweep.json: $.matrix: found a matrix different from", otherMatrix.Err, StringComparison.Ordinal);
        Assert.Contains("give an output directory and at least one shard", noShard.Err, StringComparison.Ordinal);
        Assert.Contains("nope: file not found", notFound.Err, StringComparison.Ordinal);
        Assert.Contains("holds the input", intoInput.Err, StringComparison.Ordinal);
        Assert.Contains("truncated.json: invalid or truncated JSON at line", truncated.Err, StringComparison.Ordinal);
        Assert.Contains("unknown.json: $.colour: found an unknown key \"colour\", expected one of: schema, matrix, shard, runs", unknownKey.Err, StringComparison.Ordinal);
        Assert.All(new[] { missing, twice, otherMatrix, noShard, notFound, intoInput, truncated, unknownKey }, r => Assert.Equal(2, r.Code));
        Assert.False(Directory.Exists(_dir["out"]));
    }
}
