using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerfSim.Core;
using PerfSim.Reporting.Input;

namespace PerfSim.Benchmarks.Gate;

/// <summary>The recorded engine-to-floor ratio (<c>perf-reports/engine/floor-ratio.json</c>).</summary>
/// <param name="Ratio">Median of engine faults per second ÷ floor faults per second, as recorded.</param>
/// <param name="Tolerance">Relative drop accepted (0.25 = the median may be 25% below <see cref="Ratio"/>).</param>
/// <param name="Why">Why the tolerance is what it is (kept when the file is rewritten).</param>
/// <param name="Recorded">The pairs the ratio was taken from (information; rewritten on update).</param>
public sealed record FloorRatioBaseline(double Ratio, double Tolerance, string Why, IReadOnlyList<RatioPair> Recorded)
{
    /// <summary>The lowest median ratio that still passes.</summary>
    public double Limit => Ratio * (1 - Tolerance);
}

/// <summary>One interleaved measurement: the floor loop, then the engine, in the same job.</summary>
public sealed record RatioPair(double FloorPerSecond, double EnginePerSecond)
{
    public double Ratio => EnginePerSecond / FloorPerSecond;
}

/// <summary>The gate's verdict on one run of pairs.</summary>
public sealed record FloorRatioVerdict(double Median, double Limit, GateOutcome Outcome, string Message);

/// <summary>
/// The speed gate that works on shared runners (issue 19 item 6): the engine's throughput divided
/// by the floor loop's, both measured in the same job, interleaved, so that what the machine's
/// load does to both cancels and what the engine's code does to itself remains. Fails when the
/// median ratio falls more than the recorded tolerance below the recorded ratio.
/// </summary>
public static class FloorRatioGate
{
    public const string DefaultPath = "perf-reports/engine/floor-ratio.json";

    /// <summary>Tolerance of a newly written file (an existing file's is kept): the committed
    /// record's, for the reason <see cref="DefaultWhy"/> gives (a test keeps the two equal).</summary>
    public const double DefaultTolerance = 0.40;

    /// <summary>The engine's run: issue 19's x86 per-folio guest boot (64 CPUs, 32 vCPUs) with a
    /// 4 GiB guest on a 16 GiB host, 1,048,576 faults: 2-4 s on the quiet 2-core machine, where the
    /// issue's 16 GiB guest takes 5-10 s and, under load, minutes. One host thread like the floor,
    /// so that both depend on one core's speed and neither on the other core's.</summary>
    public static IReadOnlyList<string> EngineArguments { get; } =
    [
        "run", "--scenario", "guest-boot", "--strategy", "per-folio", "--arch", "x86_64", "--cpus", "64", "--vcpus", "32",
        "--guest-memory", "4G", "--ram", "16G", "--populate-fraction", "0", "--threads", "1", "--seed", "1",
        "--no-report", "--format", "json",
    ];

    /// <summary>Faults the engine's run simulates (4 GiB / 4 KiB): checked, so that a change of the
    /// scenario's work cannot pass for a change of speed.</summary>
    public const long EngineFaults = 4 * PageGeometry.GiB / PageGeometry.PageSize;

    /// <summary>Floor passes per sample (~0.6 s on the 2-core machine). The floor runs at the issue's
    /// sizes (<see cref="FloorLoopBenchmarks"/>): memory-bound like the engine's hot structures, where
    /// a 4 GiB floor fits the last-level cache and swung 36-169 M/s between pairs (measured).</summary>
    public const int FloorPasses = 2;

    /// <summary>What the ratio is a ratio of; a file recorded for anything else is refused.</summary>
    public static string EngineDescription { get; } = "perfsim " + string.Join(' ', EngineArguments);

    public static string FloorDescription { get; } = string.Create(CultureInfo.InvariantCulture,
        $"FloorLoop scattered, {FloorLoopBenchmarks.Faults} guest pages, {FloorLoopBenchmarks.HostBytes / PageGeometry.PageSize} host frames, 1 thread, {FloorPasses} passes per sample");

    /// <summary>The reason for <see cref="DefaultTolerance"/>, written into a new file: the committed
    /// record's reason without the sentence on its own recording (a new file records its own pairs).</summary>
    public const string DefaultWhy = "Under load 18-28, 10 back-to-back gate runs of the same code gave run medians 0.0148-0.0283 (floor-ratio.md), so the ratio moves little with load here; resampled, 30% failed 1.1% of unchanged checks there. Tolerance 40% for now, not the 30% the loaded-VM resampling chose: the CI machine's own ratio is not known yet (its CPU and memory may weigh the memory-bound floor and the engine differently), and a false failure there blocks every submission; 40% still fails a 2x slower engine. Tighten to 30% once CI logs show its ratio (the gate prints every pair).";

    public static FloorRatioBaseline Read(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path);
        return Read(document.Root);
    }

    public static FloorRatioBaseline Parse(string json, string source = "floor-ratio.json")
    {
        using InputDocument document = JsonInput.Parse(json, source);
        return Read(document.Root);
    }

    private static FloorRatioBaseline Read(InputElement root)
    {
        InputObject file = root.AsObject("comment", "engine", "floor", "ratio", "tolerance", "why", "recorded");
        RequireSame(file.Required("engine", "a string"), EngineDescription);
        RequireSame(file.Required("floor", "a string"), FloorDescription);
        var recorded = new List<RatioPair>();
        if (file.Optional("recorded") is { } r)
        {
            foreach (InputElement pair in r.AsObject("utc", "load", "pairs").Required("pairs", "an array of {floor, engine}").AsArray())
            {
                InputObject p = pair.AsObject("floor", "engine", "ratio");
                recorded.Add(new RatioPair(p.GetDouble("floor", min: 1), p.GetDouble("engine", min: 1)));
            }
        }

        return new FloorRatioBaseline(
            file.GetDouble("ratio", min: 1e-6, max: 100),
            file.GetDouble("tolerance", min: 0.01, max: 0.9),
            file.GetString("why"),
            recorded);
    }

    // A ratio is only meaningful for the configuration it was taken with.
    private static void RequireSame(InputElement element, string expected)
    {
        if (element.Kind != JsonValueKind.String || element.AsString() != expected)
        {
            throw element.Error($"\"{expected}\" (the gate's configuration; re-record with --update-floor-ratio)");
        }
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        double[] sorted = [.. values.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The comparison: the median of this run's pair ratios against the recorded limit.</summary>
    public static FloorRatioVerdict Check(FloorRatioBaseline baseline, IReadOnlyList<RatioPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0 || pairs.Any(p => !(p.FloorPerSecond > 0) || !(p.EnginePerSecond > 0) || !double.IsFinite(p.Ratio)))
        {
            throw new ArgumentException("needs at least one pair of positive, finite throughputs", nameof(pairs));
        }

        double median = Median([.. pairs.Select(p => p.Ratio)]);
        double change = median / baseline.Ratio - 1;
        return median < baseline.Limit
            ? new(median, baseline.Limit, GateOutcome.Failure, Invariant(
                $"the engine is {-change:P1} slower relative to the floor, beyond the {baseline.Tolerance:P0} tolerance: a regression (or, if deliberate, re-record with --update-floor-ratio)"))
            : median > baseline.Ratio * (1 + baseline.Tolerance)
                ? new(median, baseline.Limit, GateOutcome.Ok, Invariant(
                    $"the engine is {change:P1} faster relative to the floor: re-record with --update-floor-ratio so the gate guards the new speed"))
                : new(median, baseline.Limit, GateOutcome.Ok, Invariant($"{change:+0.0%;-0.0%} against the recorded ratio, within the {baseline.Tolerance:P0} tolerance"));
    }

    /// <summary>The file with this run's median as the new ratio, keeping the tolerance and its reason.</summary>
    public static string Update(FloorRatioBaseline? existing, IReadOnlyList<RatioPair> pairs, DateTime utc, string load)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        double median = Median([.. pairs.Select(p => p.Ratio)]);
        var recorded = new JsonArray();
        foreach (RatioPair p in pairs)
        {
            recorded.Add(new JsonObject { ["floor"] = Math.Round(p.FloorPerSecond), ["engine"] = Math.Round(p.EnginePerSecond), ["ratio"] = Math.Round(p.Ratio, 5) });
        }

        var file = new JsonObject
        {
            ["comment"] = "The speed gate (README, Benchmarks): engine faults per wall second divided by the floor loop's, measured interleaved in one job; fails when the median ratio is more than tolerance below ratio. Re-record on purpose (after a speed change) with: dotnet build -c Release src/PerfSim.Cli && dotnet run -c Release --project bench/PerfSim.Benchmarks -- --update-floor-ratio. Figures and how the tolerance was chosen: floor-ratio.md.",
            ["engine"] = EngineDescription,
            ["floor"] = FloorDescription,
            ["ratio"] = Math.Round(median, 5),
            ["tolerance"] = existing?.Tolerance ?? DefaultTolerance,
            ["why"] = existing?.Why ?? DefaultWhy,
            ["recorded"] = new JsonObject
            {
                ["utc"] = utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ["load"] = load,
                ["pairs"] = recorded,
            },
        };
        return file.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
