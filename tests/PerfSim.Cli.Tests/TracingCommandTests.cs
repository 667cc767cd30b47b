using System.Text.Json;
using PerfSim.Cli.Commands;
using PerfSim.Core.Events;
using PerfSim.Engine.Simulation;
using PerfSim.Tracing;

namespace PerfSim.Cli.Tests;

/// <summary>EventPipe sessions are process-wide: these tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EventPipeCollection
{
    public const string Name = "EventPipe";
}

/// <summary><c>perfsim trace</c>, <c>run --record</c> and <c>replay</c> on real files.</summary>
[Collection(EventPipeCollection.Name)]
public sealed class TracingCommandTests : IDisposable
{
    private static readonly string[] s_small = ["--guest-memory", "32M", "--cpus", "8", "--vcpus", "4", "--ram", "1G"];
    private readonly string _dir = Directory.CreateTempSubdirectory("perfsim-cli-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static JsonElement RunJson(params string[] args)
    {
        (int code, string stdout, string stderr) = CliRunner.Run([.. args, "--format", "json", "--no-report"]);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("DROPPED", stderr, StringComparison.Ordinal);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private static long Counter(JsonElement report, string name) => report.GetProperty("counters").GetProperty(name).GetInt64();

    [Theory]
    [InlineData("per-folio")]
    [InlineData("unmapped-alloc")]
    public void Trace_writes_a_nettrace_whose_event_counts_equal_the_runs_counters(string strategy)
    {
        string nettrace = PathOf("run.nettrace");
        (int code, string stdout, string stderr) = CliRunner.Run(["trace", .. s_small, "--strategy", strategy, "--out", nettrace]);
        Assert.True(code == 0, stderr);
        Assert.Contains("every event count equals the run's counter", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(nettrace + ".partial"));

        // Read back independently of the command: TraceEvent over the file, counters from a plain run.
        NettraceSummary summary = NettraceSummary.Read(nettrace);
        JsonElement report = RunJson(["run", .. s_small, "--strategy", strategy]);
        var config = new ScenarioConfig { Strategy = strategy == "per-folio" ? Core.Kernel.Strategy.PerFolio : Core.Kernel.Strategy.UnmappedAlloc };
        foreach ((SimEventKind kind, string[] counters) in TraceCommand.Expected(config))
        {
            Assert.Equal(counters.Sum(c => Counter(report, c)), summary.Count(kind.ToString()));
        }

        Assert.Equal(Counter(report, "guest_faults"), summary.Count("Fault"));
        Assert.True(summary.Count("Fault") > 0);
        Assert.True(summary.Count(strategy == "per-folio" ? "DirectMapZap" : "MermapGet") > 0);
        Assert.Equal(2, summary.Count("Phase"));
        Assert.Equal(1, summary.Count(NettraceSummary.RunStartEventName));
        Assert.Equal(1, summary.Count(NettraceSummary.RunStopEventName));
    }

    [Fact]
    public void Trace_without_out_is_bad_input()
    {
        (int code, _, string stderr) = CliRunner.Run(["trace", .. s_small]);
        Assert.Equal(2, code);
        Assert.Contains("--out FILE.nettrace is required", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_run_replays_to_the_same_counters_and_digest()
    {
        string trace = PathOf("boot.pstrace");
        JsonElement recorded = RunJson(["run", .. s_small, "--record", trace]);
        Assert.False(File.Exists(trace + ".partial"));
        JsonElement replayed = RunJson(["replay", trace]);

        Assert.Equal(recorded.GetProperty("counters").GetRawText(), replayed.GetProperty("counters").GetRawText());
        Assert.Equal(recorded.GetProperty("digest").GetString(), replayed.GetProperty("digest").GetString());
        Assert.True(Counter(recorded, "dm_zaps") > 0);
    }

    [Theory]
    [InlineData("--strategy", "filemap")]
    [InlineData("--strategy", "none")]
    [InlineData("--arch", "arm64")]
    public void A_replay_under_another_strategy_or_arch_gives_that_runs_counters(string option, string value)
    {
        // guest-boot's workload (which pages, on which vCPU, in which order of simulated time) does
        // not depend on the design, so replaying it must equal running the scenario under the change.
        string trace = PathOf("boot.pstrace");
        JsonElement original = RunJson(["run", .. s_small, "--record", trace]);
        JsonElement replayed = RunJson(["replay", trace, option, value]);
        JsonElement direct = RunJson(["run", .. s_small, option, value]);

        Assert.Equal(direct.GetProperty("counters").GetRawText(), replayed.GetProperty("counters").GetRawText());
        Assert.Equal(direct.GetProperty("digest").GetString(), replayed.GetProperty("digest").GetString());
        Assert.NotEqual(original.GetProperty("digest").GetString(), replayed.GetProperty("digest").GetString());
    }

    [Fact]
    public void Truncated_and_corrupt_traces_exit_2_with_the_byte_offset()
    {
        string trace = PathOf("boot.pstrace");
        RunJson(["run", .. s_small, "--record", trace]);
        byte[] bytes = File.ReadAllBytes(trace);

        string truncated = PathOf("truncated.pstrace");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        (int code, string stdout, string stderr) = CliRunner.Run("replay", truncated, "--no-report");
        Assert.Equal(2, code);
        Assert.Matches(@"^perfsim: .*truncated\.pstrace: .* at byte \d+\r?\n$", stderr);
        Assert.Equal(string.Empty, stdout);

        string corrupt = PathOf("corrupt.pstrace");
        byte[] bad = (byte[])bytes.Clone();
        bad[8] = 9; // version byte
        File.WriteAllBytes(corrupt, bad);
        (code, _, stderr) = CliRunner.Run("replay", corrupt, "--no-report");
        Assert.Equal(2, code);
        Assert.Contains("unsupported version 9 (this reader reads 2) at byte 8", stderr, StringComparison.Ordinal);

        string cutMagic = PathOf("cut.pstrace");
        File.WriteAllBytes(cutMagic, bytes[..5]);
        (code, _, stderr) = CliRunner.Run("replay", cutMagic, "--no-report");
        Assert.Equal(2, code);
        Assert.Contains("at byte 0", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_trace_replays_and_its_errors_name_the_line()
    {
        string text = PathOf("workload.txt");
        File.WriteAllLines(text,
        [
            "# a converted workload: the VMM populates 2 pages, then two vCPUs fault 3 pages in",
            "100 4 populate 0x0 0",
            "200 4 populate 0x0 1",
            "250 0 zap 0x1000 1          # a consequence: ignored on replay",
            "300 0 fault 0x0 2",
            "300 1 fault 0x0 3",
            "400 0 fault 0x0 4",
            "500 1 fault 0x0 99999999    # outside a 32 MiB guest: skipped and counted",
        ]);
        (int code, string stdout, string stderr) = CliRunner.Run(["replay", text, .. s_small, "--format", "json", "--no-report"]);
        Assert.True(code == 0, stderr);
        JsonElement report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(3, Counter(report, "guest_faults"));
        Assert.Equal(2, Counter(report, "populated_pages"));
        Assert.Contains("(text): 7 events, 5 replayed, 1 consequences/markers ignored, 1 out of the file's range", stderr, StringComparison.Ordinal);

        File.AppendAllText(text, "600 0 zapp 0x0 1\n");
        (code, stdout, stderr) = CliRunner.Run(["replay", text, .. s_small, "--no-report"]);
        Assert.Equal(2, code);
        Assert.Contains("line 9: unknown kind 'zapp'", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public void Record_to_an_unwritable_place_is_bad_input_and_leaves_nothing()
    {
        string trace = Path.Combine(_dir, "missing-dir", "boot.pstrace");
        (int code, _, string stderr) = CliRunner.Run(["run", .. s_small, "--no-report", "--record", trace]);
        Assert.Equal(2, code);
        Assert.StartsWith("perfsim: --record: cannot write", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(trace)));
    }

    [Fact]
    public void Replay_of_a_missing_file_or_without_a_file_is_bad_input()
    {
        Assert.Equal(2, CliRunner.Run("replay", PathOf("nope.pstrace")).Code);
        (int code, _, string stderr) = CliRunner.Run("replay", "--strategy", "none");
        Assert.Equal(2, code);
        Assert.Contains("missing FILE", stderr, StringComparison.Ordinal);
    }
}
