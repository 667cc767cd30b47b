using System.Diagnostics;

namespace PerfSim.Cli.Tests;

/// <summary>Ctrl-C and SIGTERM on a real perfsim process: one line, exit 130/143, no temporary
/// left, the previous output intact.</summary>
public sealed class EdgeSignalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_signal_during_a_recording_removes_its_temporaries_and_keeps_the_previous_trace(string signal, int expectedExit)
    {
        string trace = _dir.File("t.bin", "previous trace");
        string output = _dir["out"];
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "report.json"), "previous report");
        string perfsim = Path.Combine(AppContext.BaseDirectory, "perfsim.dll");
        // Through env(1), which resets both signals to their default first: a process started in
        // the background by a non-interactive shell (a CI script's `cmd &`) inherits SIGINT
        // ignored, as does every child of it, and .NET leaves an ignored signal ignored, so
        // perfsim would run to the end and exit 0. The disposition is the launcher's, not perfsim's.
        var start = new ProcessStartInfo("env")
        {
            ArgumentList = { "--default-signal=INT,TERM", "dotnet", perfsim, "run", "--ram", "32G", "--guest-memory", "16G", "--cpus", "8", "--vcpus", "8", "--threads", "1", "--record", trace, "--out", output },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using Process child = Process.Start(start)!;
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();

        // The recording has begun once its temporary exists; no sleep decides anything.
        var deadline = Stopwatch.StartNew();
        while (!Directory.EnumerateFiles(_dir.Path).Any(f => f.EndsWith(".partial", StringComparison.Ordinal)))
        {
            if (child.HasExited)
            {
                Assert.Fail("perfsim ended before recording: " + await stderr);
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(3), "no temporary trace appeared");
            await Task.Delay(20);
        }

        using (Process kill = Process.Start("kill", ["-" + signal, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(guard.Token);
        Assert.Equal(expectedExit, child.ExitCode);
        string[] lines = (await stderr).TrimEnd('\n').Split('\n');
        Assert.Equal($"perfsim: interrupted by SIG{signal}; stopped, 1 temporary file(s) removed, earlier outputs left as they were", Assert.Single(lines));
        Assert.Equal(string.Empty, await stdout);
        Assert.Equal(["out", "t.bin"], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("previous trace", File.ReadAllText(trace));
        Assert.Equal(["report.json"], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName));
        Assert.Equal("previous report", File.ReadAllText(Path.Combine(output, "report.json")));
    }
}
