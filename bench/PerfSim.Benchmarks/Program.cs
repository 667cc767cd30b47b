using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using PerfSim.Benchmarks.Gate;
using PerfSim.Benchmarks.Infrastructure;

namespace PerfSim.Benchmarks;

/// <summary>
/// <c>PerfSim.Benchmarks [PerfSim options] [BenchmarkDotNet options]</c>. PerfSim's own options are
/// taken out first, the rest goes to BenchmarkDotNet (<c>--filter</c>, <c>--artifacts</c>, ...):
/// <list type="bullet">
/// <item><c>--quick</c>: CI's in-process short job instead of BDN's default job (README, Benchmarks).</item>
/// <item><c>--allocations FILE</c>: fail when a benchmark allocates more per operation than FILE records.</item>
/// <item><c>--update-allocations</c>: rewrite that FILE (default <c>perf-reports/allocations.json</c>) instead.</item>
/// <item><c>--baseline DIR</c>: compare wall-clock times with DIR's <c>*-report-full.json</c> (report).</item>
/// <item><c>--time-gate FRACTION</c>: also fail when a benchmark is significantly slower by more than FRACTION.</item>
/// <item><c>--judge DIR</c>: run nothing; apply the options above to DIR's <c>*-report-full.json</c>.</item>
/// <item><c>--floor-ratio FILE</c>: run no benchmark; the speed gate instead: engine ÷ floor-loop
/// throughput, interleaved, against FILE (default <c>perf-reports/engine/floor-ratio.json</c>).</item>
/// <item><c>--update-floor-ratio</c>: rewrite that FILE from this run instead.</item>
/// <item><c>--pairs N</c>: floor/engine pairs of the speed gate (3-25; default 7, or 15 with --update-floor-ratio).</item>
/// <item><c>--perfsim DLL</c>: the built CLI the speed gate runs (default its Release build).</item>
/// </list>
/// </summary>
internal static class Program
{
    private const string DefaultAllocations = "perf-reports/allocations.json";

    private static int Main(string[] args)
    {
        var bdnArgs = new List<string>();
        bool quick = false;
        string? judge = null;
        var gate = new GateOptions();
        FloorRatioOptions? floorRatio = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick":
                        quick = true;
                        break;
                    case "--allocations":
                        gate = gate with { AllocationsPath = Value(args, ref i) };
                        break;
                    case "--update-allocations":
                        gate = gate with { UpdateAllocations = true, AllocationsPath = gate.AllocationsPath ?? DefaultAllocations };
                        break;
                    case "--baseline":
                        gate = gate with { BaselineDirectory = Value(args, ref i) };
                        break;
                    case "--judge":
                        judge = Value(args, ref i);
                        break;
                    case "--floor-ratio":
                        floorRatio = (floorRatio ?? new()) with { Path = Value(args, ref i) };
                        break;
                    case "--update-floor-ratio":
                        floorRatio = (floorRatio ?? new()) with { Update = true };
                        break;
                    case "--pairs":
                        floorRatio = (floorRatio ?? new()) with { Pairs = Pairs(Value(args, ref i)) };
                        break;
                    case "--perfsim":
                        floorRatio = (floorRatio ?? new()) with { Perfsim = Value(args, ref i) };
                        break;
                    case "--time-gate":
                        gate = gate with { TimeGate = double.Parse(Value(args, ref i), System.Globalization.CultureInfo.InvariantCulture) };
                        break;
                    default:
                        bdnArgs.Add(args[i]);
                        break;
                }
            }
        }
        catch (FormatException)
        {
            Console.Error.WriteLine("--time-gate: expected a fraction such as 0.5 (50% slower)");
            return 2;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        if (floorRatio is not null)
        {
            if (bdnArgs.Count > 0 || judge is not null || gate != new GateOptions())
            {
                Console.Error.WriteLine($"--floor-ratio: runs no benchmark and takes only --update-floor-ratio, --pairs and --perfsim; got {string.Join(' ', bdnArgs.Count > 0 ? bdnArgs : ["another gate's options"])}");
                return 2;
            }

            if (!File.Exists(floorRatio.Perfsim))
            {
                Console.Error.WriteLine($"--perfsim: no file {floorRatio.Perfsim} (build it: dotnet build -c Release src/PerfSim.Cli)");
                return 2;
            }

            return FloorRatioRun.Run(floorRatio, Console.Out, Console.Error);
        }

        if (judge is not null)
        {
            return PerfGate.Run(gate, [.. Directory.EnumerateFiles(judge, "*-report-full.json")], Console.Out);
        }

        DateTime started = DateTime.UtcNow;
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. bdnArgs], SuiteConfig.Create(quick)).ToList();
        if (bdnArgs.Any(a => a is "--list" or "--help" or "-h" or "--info" or "--version"))
        {
            return 0; // nothing was meant to run
        }

        // BenchmarkSwitcher exits 0 even when validation refuses to run or the filter matches
        // nothing (ecosystem.md §3): turn those into a non-zero exit so CI notices.
        bool failed = summaries.Count == 0
            || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        if (failed)
        {
            Console.Error.WriteLine("benchmarks: nothing ran, a benchmark failed or validation refused the suite");
            return 1;
        }

        if (gate.AllocationsPath is null && gate.BaselineDirectory is null)
        {
            return 0;
        }

        return PerfGate.Run(gate, ResultFiles(summaries, started), Console.Out);
    }

    /// <summary>The full JSON reports this run wrote (older files in the folder are ignored).</summary>
    private static List<string> ResultFiles(IEnumerable<Summary> summaries, DateTime started) =>
        [.. summaries.Select(s => s.ResultsDirectoryPath).Distinct(StringComparer.Ordinal)
            .SelectMany(dir => Directory.EnumerateFiles(dir, "*-report-full.json"))
            .Where(f => File.GetLastWriteTimeUtc(f) >= started)];

    private static int Pairs(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
            && n is >= FloorRatioOptions.MinPairs and <= FloorRatioOptions.MaxPairs
            ? n
            : throw new ArgumentException($"--pairs: expected an integer from {FloorRatioOptions.MinPairs} to {FloorRatioOptions.MaxPairs}, got {text}");

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]}: expected a value");
}
