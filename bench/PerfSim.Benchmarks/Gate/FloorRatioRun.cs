using System.Diagnostics;
using System.Globalization;
using PerfSim.Reporting;
using PerfSim.Reporting.Input;

namespace PerfSim.Benchmarks.Gate;

/// <summary>How the speed gate runs (Program's <c>--floor-ratio</c> options).</summary>
public sealed record FloorRatioOptions
{
    public const int MinPairs = 3;
    public const int MaxPairs = 25;

    public string Path { get; init; } = FloorRatioGate.DefaultPath;

    /// <summary>Rewrite <see cref="Path"/> from this run instead of checking it.</summary>
    public bool Update { get; init; }

    /// <summary>Pairs a check takes, and a record: a record's noise is every later check's, so it
    /// takes more (floor-ratio.md: the figures behind both).</summary>
    public const int CheckPairs = 7;
    public const int RecordPairs = 15;

    /// <summary>Interleaved floor/engine pairs (default <see cref="CheckPairs"/>, or
    /// <see cref="RecordPairs"/> with <see cref="Update"/>); the gate judges their median ratio.</summary>
    public int? Pairs { get; init; }

    public int EffectivePairs => Pairs ?? (Update ? RecordPairs : CheckPairs);

    /// <summary>The built <c>perfsim</c> CLI, run as <c>dotnet PATH run ...</c>.</summary>
    public string Perfsim { get; init; } = "src/PerfSim.Cli/bin/Release/net10.0/perfsim.dll";
}

/// <summary>
/// Measures the pairs: the floor loop in this process, then <c>perfsim run</c> as a child process
/// (its own runtime settings, its own <c>wall.faults_per_wall_second</c>), alternately, so that
/// both halves of a pair see the same machine within seconds.
/// </summary>
public static class FloorRatioRun
{
    /// <returns>0 ok, 1 the engine is slower than the gate accepts (or failed to run), 2 unusable
    /// input (one line on <paramref name="error"/>, nothing run).</returns>
    public static int Run(FloorRatioOptions options, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        FloorRatioBaseline? baseline;
        try
        {
            baseline = options.Update && !File.Exists(options.Path) ? null : FloorRatioGate.Read(options.Path);
        }
        catch (InputException e)
        {
            error.WriteLine($"floor-ratio gate: {e.Message}");
            return 2;
        }

        output.WriteLine($"== engine / floor ratio ({options.EffectivePairs} interleaved pairs, load {Load()})");
        output.WriteLine($"engine: {FloorRatioGate.EngineDescription}");
        output.WriteLine($"floor:  {FloorRatioGate.FloorDescription}");
        var loop = new FloorLoop(FloorLoopBenchmarks.GuestBytes, FloorLoopBenchmarks.HostBytes, FloorLoop.Order.Scattered);
        loop.Run(); // the first pass pages the arrays in
        var pairs = new List<RatioPair>();
        for (int i = 0; i < options.EffectivePairs; i++)
        {
            double floor = loop.FaultsPerSecond(FloorRatioGate.FloorPasses);
            if (!TryEngine(options.Perfsim, output, out double engine))
            {
                return 1;
            }

            var pair = new RatioPair(floor, engine);
            pairs.Add(pair);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pair {i + 1}/{options.EffectivePairs}: floor {floor / 1e6:F2} M/s, engine {engine / 1e6:F3} M/s, ratio {pair.Ratio:F5}"));
        }

        if (options.Update)
        {
            File.WriteAllText(options.Path, FloorRatioGate.Update(baseline, pairs, DateTime.UtcNow, Load()));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"floor-ratio gate: rewrote {options.Path} with ratio {FloorRatioGate.Median([.. pairs.Select(p => p.Ratio)]):F5}; review the diff and commit it with the reason"));
            return 0;
        }

        FloorRatioVerdict verdict = FloorRatioGate.Check(baseline!, pairs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(verdict.Outcome == GateOutcome.Failure ? "FAIL" : "ok")}    median ratio {verdict.Median:F5} (recorded {baseline!.Ratio:F5}, limit {verdict.Limit:F5}, load {Load()}): {verdict.Message}"));
        return verdict.Outcome == GateOutcome.Failure ? 1 : 0;
    }

    private static bool TryEngine(string perfsim, TextWriter output, out double faultsPerSecond)
    {
        faultsPerSecond = 0;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(perfsim);
        foreach (string a in FloorRatioGate.EngineArguments)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        string json = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            output.WriteLine($"FAIL    the engine run exited {process.ExitCode}: dotnet {perfsim} {string.Join(' ', FloorRatioGate.EngineArguments)}");
            return false;
        }

        RunReport report = ReportJson.Parse(json, "perfsim run's output");
        if (report.Counter(CounterNames.Faults) != FloorRatioGate.EngineFaults)
        {
            // The recorded ratio is for this amount of work.
            output.WriteLine($"FAIL    the engine simulated {report.Counter(CounterNames.Faults)} faults, not the {FloorRatioGate.EngineFaults} its recorded ratio is for: re-record with --update-floor-ratio if that is deliberate");
            return false;
        }

        faultsPerSecond = report.Wall.FaultsPerWallSecond;
        return true;
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
