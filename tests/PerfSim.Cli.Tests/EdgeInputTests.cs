using System.Diagnostics;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;
using PerfSim.Tracing.Files;

namespace PerfSim.Cli.Tests;

/// <summary>Input files at the edges (issues 17 and 18): standard input, directories, FIFOs,
/// devices, sizes, duplicate keys and lines, traces that are not traces, and echoed content.</summary>
public sealed class EdgeInputTests : IDisposable
{
    private static readonly string[] s_small = ["--cpus", "8", "--vcpus", "2", "--ram", "1G", "--guest-memory", "8M", "--no-report"];
    private static readonly string[] s_noRam = ["--cpus", "8", "--vcpus", "2", "--guest-memory", "8M", "--no-report"];
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertBadInput((int Code, string Out, string Err) result, string expected) => BadInputAssert.Refused(result, expected);

    [Fact]
    public void A_dash_reads_the_scenario_the_script_the_matrix_and_a_text_trace_from_standard_input()
    {
        var run = CliRunner.RunWithStdin("""{"cpus": 8, "vcpus": 2, "ram": "1G", "guest_memory": "8M"}""", "run", "--scenario", "-", "--no-report", "--format", "json");
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("\"cpus\": 8", run.Out, StringComparison.Ordinal);

        var script = CliRunner.RunWithStdin("invalid 0x1000 1\n", "directmap", "--ram", "1G", "--script", "-");
        Assert.True(script.Code == 0, script.Err);

        var sweep = CliRunner.RunWithStdin("""{"vary": {"seed": [1, 2]}}""", ["sweep", "--matrix", "-", .. s_small[..^1], "--out", _dir["sweep"]]);
        Assert.True(sweep.Code == 0, sweep.Err);

        var replay = CliRunner.RunWithStdin("0 0 fault 0x0 0\n10 1 fault 0x0 1\n", ["replay", "-", .. s_small]);
        Assert.True(replay.Code == 0, replay.Err);
        Assert.Contains("replayed <stdin> (text): 2 events", replay.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Standard_input_is_read_once() =>
        AssertBadInput(CliRunner.RunWithStdin("{}", ["run", "--scenario", "-", "--cost-profile", "-", .. s_small]), "standard input) is given twice");

    [Fact]
    public void A_directory_where_a_file_is_expected_is_named_as_such()
    {
        AssertBadInput(CliRunner.Run("compare", _dir.Path, _dir.Path), $"{_dir.Path}: is a directory; a report, sweep or BenchmarkDotNet file is expected here");
        AssertBadInput(CliRunner.Run(["replay", _dir.Path, .. s_small]), "is a directory; a trace is expected here");
        AssertBadInput(CliRunner.Run(["run", "--meminfo", _dir.Path, .. s_noRam]), "--meminfo: cannot read");
    }

    [Fact]
    public async Task A_fifo_is_refused_without_opening_it()
    {
        string fifo = _dir["fifo"];
        using (Process mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        // Opening a FIFO with no writer blocks: the guard turns a regression into a failure, not a hang.
        Task<(int Code, string Out, string Err)> run = Task.Run(() => CliRunner.Run(["run", "--e820", fifo, .. s_noRam]));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))));
        AssertBadInput(await run, "is a FIFO (named pipe), not a regular file");
    }

    [Fact]
    public void Dev_zero_and_a_sparse_file_are_refused_at_the_size_limit_without_being_read_whole()
    {
        AssertBadInput(CliRunner.Run(["run", "--scenario", "/dev/zero", .. s_small]), "more than 1048576 bytes; a scenario file may hold at most 1048576 bytes");

        string sparse = _dir["sparse.e820"];
        using (var file = new FileStream(sparse, FileMode.CreateNew))
        {
            file.SetLength(2_500_000_000);
        }

        AssertBadInput(CliRunner.Run(["run", "--e820", sparse, .. s_noRam]), "2500000000 bytes; a firmware memory map (e820) may hold at most 1048576 bytes");
        AssertBadInput(CliRunner.Run(["replay", "/dev/zero", .. s_small]), "not a PerfSim trace: binary data without the PERFSIMT magic");
    }

    [Fact]
    public void A_text_trace_without_line_ends_stops_at_the_line_limit() =>
        AssertBadInput(CliRunner.Run(["replay", _dir.File("long.txt", new string('7', 100_000)), .. s_small]), "line 1: longer than 4096 characters");

    [Fact]
    public void An_overlong_line_in_an_e820_dump_is_refused() =>
        AssertBadInput(CliRunner.Run(["run", "--e820", _dir.File("e820", new string(' ', 5000) + "\n"), .. s_noRam]), ":1: a line of 5000 characters; a firmware memory map (e820) allows at most 4096");

    [Fact]
    public void A_nettrace_given_to_replay_is_named_with_what_replay_takes()
    {
        string nettrace = _dir["run.nettrace"];
        File.WriteAllBytes(nettrace, [.. "Nettrace"u8, 0x14, 0, 0, 0, .. "!FastSerialization.1"u8]);

        AssertBadInput(CliRunner.Run(["replay", nettrace, .. s_small]), "an EventPipe .nettrace file");
        AssertBadInput(CliRunner.Run(["replay", nettrace, .. s_small]), TraceInput.Accepted);
    }

    [Fact]
    public void An_empty_file_does_not_replay_as_an_empty_trace()
    {
        AssertBadInput(CliRunner.Run(["replay", _dir.File("empty", ""), .. s_small]), "an empty file; replay takes");
        AssertBadInput(CliRunner.Run(["replay", _dir.File("comments", "# nothing\n\n"), .. s_small]), "a text trace without a single event");
    }

    [Theory]
    [InlineData("0 0 punch_hole 0x0 -512\n", "line 1: punch_hole of negative length -512")]
    [InlineData("5 0 fault 0x0 0\n-7 0 punch_hole 0x0 512\n", "line 2: punch_hole at negative time -7 ns")]
    public void Negative_punch_hole_lengths_and_times_are_refused(string trace, string expected) =>
        AssertBadInput(CliRunner.Run(["replay", _dir.File("holes.txt", trace), .. s_small]), expected);

    [Fact]
    public void Duplicate_keys_in_a_scenario_and_a_cost_profile_are_refused_as_repeated_options_are()
    {
        AssertBadInput(CliRunner.Run(["run", "--scenario", _dir.File("s.json", """{"cpus": 8, "cpus": 64}"""), .. s_small[2..]]), "a key is given twice");
        AssertBadInput(CliRunner.Run(["run", "--cost-profile", _dir.File("c.json", """{"arch": "x86_64", "arch": "arm64"}"""), .. s_small]), "'arch'");
    }

    [Fact]
    public void A_duplicate_meminfo_line_is_refused_naming_both_lines() =>
        AssertBadInput(
            CliRunner.Run("directmap", "--meminfo", _dir.File("meminfo", "DirectMap4k: 4096 kB\nDirectMap2M: 4194304 kB\nDirectMap2M: 8388608 kB\n"), "--script", "/dev/null"),
            ":3: DirectMap2M is given twice (first on line 2); give it once");

    [Theory]
    [InlineData("DirectMap4k: 4096 kB\nDirectMap2M: 204800000000 kB\n", ":2: DirectMap2M 204800000000 kB is more than the 4294967296 kB (4 TiB)")]
    [InlineData("DirectMap4k: 36028797018963968 kB\nDirectMap2M: 2048 kB\n", ":1: DirectMap4k 36028797018963968 kB is more than")]
    [InlineData("DirectMap4k: 2147483648 kB\nDirectMap2M: 2147483648 kB\nDirectMap1G: 1048576 kB\n", "DirectMap4k + DirectMap2M + DirectMap1G = 4296015872 kB, more than the 4294967296 kB (4 TiB)")]
    public void Meminfo_totals_beyond_4_TiB_are_refused_before_a_boot_plan_is_built(string meminfo, string expected)
    {
        AssertBadInput(CliRunner.Run(["run", "--meminfo", _dir.File("meminfo", meminfo), .. s_noRam]), expected);
        AssertBadInput(CliRunner.Run("directmap", "--meminfo", _dir["meminfo"], "--script", "/dev/null"), expected);
    }

    [Fact]
    public void Control_bytes_in_echoed_content_are_escaped_and_long_echoes_are_capped()
    {
        var result = CliRunner.Run(["run", "--meminfo", _dir.File("meminfo", "DirectMap4k: \u001b[2J\r" + new string('x', 500) + " kB\nDirectMap2M: 2048 kB\n"), .. s_noRam]);

        AssertBadInput(result, "got 'DirectMap4k: \\x1b[2J\\x0dxxx");
        Assert.DoesNotContain('\u001b', result.Err);
        Assert.DoesNotContain('\r', result.Err);
        Assert.True(result.Err.Length < 200, result.Err);

        var trace = CliRunner.Run(["replay", _dir.File("t.txt", "1 0 fa\u007fult 0x0 0\n"), .. s_small]);
        AssertBadInput(trace, "unknown kind 'fa\\x7fult'");
    }

    [Fact]
    public void The_escaper_keeps_printable_text_and_escapes_the_rest() =>
        Assert.Equal(("plain ü", "a\\x00b\\u200bc", new string('y', Echo.MaxChars) + "..."), (Echo.Of("plain ü"), Echo.Of("a\0b\u200bc"), Echo.Of(new string('y', 99))));

    [Fact]
    public void A_huge_guest_on_a_smaller_host_is_refused_from_the_configuration()
    {
        // Before: the 1 TiB host was built (8.5 s, 3.7 GB) before the fit was checked.
        var config = new Engine.Simulation.ScenarioConfig { RamBytes = Core.PageGeometry.TiB, GuestMemoryBytes = 4 * Core.PageGeometry.TiB };
        InputException e = Assert.Throws<InputException>(() => Preflight.Check(config, null, allowLargeMemory: true, "options"));
        Assert.StartsWith("options: guest_memory: 4 TiB of guest memory does not fit in 90% of the host's 1 TiB", e.Message, StringComparison.Ordinal);
        AssertBadInput(CliRunner.Run("run", "--ram", "1T", "--guest-memory", "4T", "--no-report"), "does not fit in 90% of the host's 1 TiB");
    }
}
