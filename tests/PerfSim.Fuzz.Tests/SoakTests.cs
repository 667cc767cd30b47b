using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace PerfSim.Fuzz.Tests;

/// <summary>
/// <c>run --repeat</c> of a mid-size scenario over and over for PERFSIM_SOAK_SECONDS (default 60)
/// with <c>--threads</c> 1 to 4: every run gives the same digest, and the process's resident
/// memory does not grow from one round to the next (the native frame state is freed).
/// </summary>
public sealed class SoakTests(ITestOutputHelper log)
{
    private static readonly string[] s_midSize = ["run", "--scenario", "vm-churn", "--cpus", "16", "--vcpus", "4", "--ram", "4G", "--guest-memory", "256M", "--vms", "3", "--passes", "2", "--repeat", "2", "--no-report", "--format", "json"];

    [Fact]
    public void Repeated_runs_on_one_to_four_threads_keep_one_digest_and_no_memory_growth()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("PERFSIM_SOAK_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 60;
        var digests = new HashSet<string>(StringComparer.Ordinal);
        var rss = new List<long>();
        var clock = Stopwatch.StartNew();
        int rounds = 0;
        while (rounds < 2 || clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            for (int threads = 1; threads <= 4; threads++)
            {
                (int code, string stdout, string stderr) = Cli.Run([.. s_midSize, "--threads", threads.ToString(CultureInfo.InvariantCulture)]);
                Assert.True(code == 0, stderr);
                using JsonDocument report = JsonDocument.Parse(stdout);
                digests.Add(report.RootElement.GetProperty("digest").GetString()!);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            rss.Add(Process.GetCurrentProcess().WorkingSet64);
            rounds++;
        }

        log.WriteLine($"{rounds} rounds of threads 1-4 in {clock.Elapsed.TotalSeconds:F0} s; RSS after each round (MiB): {string.Join(", ", rss.Select(r => r >> 20))}");
        Assert.Single(digests);
        // Round 1 warms up (JIT, pools); after it, a leak of one run's frame state (tens of MiB) per round would show.
        Assert.True(rss[^1] <= rss[1] + (64L << 20), $"RSS grew from {rss[1] >> 20} MiB after round 2 to {rss[^1] >> 20} MiB after round {rounds}");
    }
}
