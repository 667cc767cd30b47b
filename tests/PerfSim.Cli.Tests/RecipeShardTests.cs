using System.Diagnostics;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Cli.Tests;

/// <summary>
/// recipes/sweep-shard.sh, the per-shard command the CI, Slurm and Kubernetes recipes all run:
/// its shards as separate perfsim processes merge into the unsharded sweep, and bad indices are
/// refused with one line and exit 2. The recipes themselves run end to end in recipes/run-local.py.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the recipes are bash scripts
public sealed class RecipeShardTests : IDisposable
{
    // Six tiny runs: each shard process takes about a second, most of it .NET start-up.
    private const string Matrix = """
        {"vary": {"strategy": ["none", "per-folio", "unmapped-alloc"], "cpus": [2, 4]},
         "base": {"ram": "512M", "guest-memory": "16M", "vcpus": 2}}
        """;

    private readonly TempDirectory _dir = new();

    public RecipeShardTests()
    {
        // `perfsim` on PATH, as `dotnet tool install` leaves it: this build of the CLI.
        string bin = Directory.CreateDirectory(_dir["bin"]).FullName;
        string perfsim = Path.Combine(bin, "perfsim");
        File.WriteAllText(perfsim, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "perfsim.dll")}' \"$@\"\n");
        File.SetUnixFileMode(perfsim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _dir.File("matrix.json", Matrix);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Shards_run_as_separate_processes_merge_into_the_unsharded_sweep()
    {
        // The scheduler's 0-based task indices, all shards at once, each its own process.
        var shards = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => ShardAsync(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "3", _dir[$"shard-{i}"])));
        Assert.All(shards, s => Assert.Equal(0, s.Code));
        Assert.All(shards, s => Assert.StartsWith("perfsim: wrote ", s.Err, StringComparison.Ordinal));

        // Index 1 of 3 is perfsim's shard 2/3: ordinals 1 and 4.
        SweepReport second = SweepJson.ReadFile(Path.Combine(_dir["shard-1"], "sweep.json"));
        Assert.Equal(new ShardInfo(1, 3), second.Shard);
        Assert.Equal([1, 4], second.Runs.Select(r => r.Ordinal));

        Assert.Equal(0, CliRunner.Run("merge", _dir["merged"], _dir["shard-0"], _dir["shard-1"], _dir["shard-2"]).Code);
        Assert.Equal(0, CliRunner.Run("sweep", "--matrix", _dir["matrix.json"], "--out", _dir["all"]).Code);
        Assert.Equal(
            SweepCommandTests.WithoutWall(File.ReadAllText(Path.Combine(_dir["all"], "sweep.json"))),
            SweepCommandTests.WithoutWall(File.ReadAllText(Path.Combine(_dir["merged"], "sweep.json"))));
    }

    [Theory]
    [InlineData(new[] { "3", "3" }, "expected 3 arguments, got 2")]
    [InlineData(new[] { "3", "3", "OUT" }, "INDEX must be an integer in 0..2, got '3'")]
    [InlineData(new[] { "-1", "3", "OUT" }, "INDEX must be an integer in 0..2, got '-1'")]
    [InlineData(new[] { "one", "3", "OUT" }, "INDEX must be an integer in 0..2, got 'one'")]
    [InlineData(new[] { "0", "0", "OUT" }, "COUNT must be an integer >= 1, got '0'")]
    [InlineData(new[] { "0", "1e3", "OUT" }, "COUNT must be an integer >= 1, got '1e3'")]
    [InlineData(new[] { "0", "3", "" }, "OUT_DIR must not be empty")]
    public async Task A_bad_index_count_or_directory_is_one_line_exit_2_and_nothing_written(string[] args, string expected)
    {
        var (code, stdout, stderr) = await RunAsync(args.Select(a => a == "OUT" ? _dir["out"] : a).ToArray());

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"sweep-shard.sh: {expected}; usage: sweep-shard.sh INDEX COUNT OUT_DIR", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [Fact]
    public async Task More_shards_than_runs_is_perfsims_own_one_line_refusal()
    {
        var (code, _, stderr) = await ShardAsync("0", "7", _dir["out"]);

        Assert.Equal(2, code);
        Assert.StartsWith("perfsim: --shard: '1/7' is not I/N with 1 <= I <= N <= 6", Assert.Single(stderr.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    private Task<(int Code, string Out, string Err)> ShardAsync(string index, string count, string outDir) => RunAsync([index, count, outDir]);

    private async Task<(int Code, string Out, string Err)> RunAsync(string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(RepoRoot(), "recipes", "sweep-shard.sh") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = _dir.Path,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PATH"] = _dir["bin"] + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["MATRIX"] = _dir["matrix.json"];
        using Process child = Process.Start(start)!;
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(guard.Token);
        return (child.ExitCode, await stdout, await stderr);
    }

    // The test binary lies inside the clone (tests/PerfSim.Cli.Tests/bin/...), whatever CI=true
    // does to source paths.
    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "PerfSim.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException($"PerfSim.sln not found above {AppContext.BaseDirectory}");
    }
}
