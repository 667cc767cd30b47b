using PerfSim.Cli.Output;

namespace PerfSim.Cli.Tests;

/// <summary>The progress line and the "wrote ..." line, on a clock the test moves.</summary>
public sealed class ProgressTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Phases_are_named_and_the_share_only_moves_forward_with_elapsed_time_and_an_eta()
    {
        var clock = new ManualClock();
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr, terminal: true, "boot", ["populate", "boot"], clock);

        clock.Now += TimeSpan.FromSeconds(1);
        progress.Report(0.5);
        Assert.Equal(0.25, progress.Done);
        clock.Now += TimeSpan.FromSeconds(1);
        progress.Report(1.0);
        clock.Now += TimeSpan.FromSeconds(2);
        progress.Report(0.5);

        Assert.Equal(0.75, progress.Done);
        string text = stderr.ToString();
        Assert.Contains("\rboot: 25% (populate, phase 1/2), 1 s elapsed, ETA 3 s\u001b[K", text, StringComparison.Ordinal);
        Assert.Contains("\rboot: 75% (boot, phase 2/2), 4 s elapsed, ETA 1 s\u001b[K", text, StringComparison.Ordinal);
        progress.Finish();
        Assert.EndsWith("\rboot: 100% (boot, phase 2/2), 4 s elapsed, done\u001b[K" + Environment.NewLine, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_terminal_plain_lines_come_now_and_then_and_nothing_is_redrawn()
    {
        var clock = new ManualClock();
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr, terminal: false, "[1/2] cpus=2", ["boot"], clock);

        for (int second = 1; second <= 65; second++)
        {
            clock.Now += TimeSpan.FromSeconds(1);
            progress.Report(second / 100.0);
        }

        progress.Finish();
        string[] lines = stderr.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["[1/2] cpus=2: 30% (boot), 30 s elapsed, ETA 1 min 10 s", "[1/2] cpus=2: 60% (boot), 1 min 00 s elapsed, ETA 40 s"], lines);
        Assert.DoesNotContain('\r', stderr.ToString());
    }

    [Theory]
    [InlineData(false, "perfsim: wrote out/report.json, report.md, report.csv and 2 charts")]
    [InlineData(true, "perfsim: wrote out/report.json, report.md, report.csv and 2 charts (replacing the previous run)")]
    public void The_wrote_line_names_the_files_and_says_when_it_replaced_a_run(bool replacing, string expected)
    {
        Assert.Equal(expected, Written.Line("out", ["report.json", "report.md", "report.csv", "latency.svg", "flushes.svg"], replacing));
    }
}
