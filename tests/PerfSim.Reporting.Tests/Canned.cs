using System.Text.Json.Nodes;

namespace PerfSim.Reporting.Tests;

/// <summary>Hand-made reports with round, recognisable numbers.</summary>
internal static class Canned
{
    public static RunReport Report(
        string scenario = "gmem-fault",
        string strategy = "per-folio",
        int cpus = 4,
        long faults = 262_144,
        long ipis = 1_024,
        long faultP50 = 1_850,
        long faultP99 = 12_500,
        double populateBytesPerSecond = 4.5e9,
        IReadOnlyList<double>? wallSamples = null)
    {
        OrderedDictionary<string, long> counters = CounterNames.CreateZeroed();
        counters[CounterNames.Faults] = faults;
        counters[CounterNames.DmZaps] = 4_096;
        counters[CounterNames.DmRestores] = 512;
        counters[CounterNames.Level2Splits] = 3;
        counters[CounterNames.Level3Splits] = 17;
        counters[CounterNames.PtPages] = 20;
        counters[CounterNames.FlushKernelRange] = 2_048;
        counters[CounterNames.FlushAll] = 8;
        counters[CounterNames.Ipis] = ipis;
        counters[CounterNames.Invlpg] = 40_960;
        counters[CounterNames.TlbMisses] = 123_456;
        counters[CounterNames.StaleTlbAccesses] = 0;
        counters[CounterNames.MermapGets] = 64;
        counters.Add("engine_quanta", 777);

        return new RunReport
        {
            Config = new JsonObject
            {
                ["seed"] = 42,
                ["cpus"] = cpus,
                ["vcpus"] = 2,
                ["strategy"] = strategy,
                ["arch"] = "x86_64",
                ["guest_memory"] = 1L << 30,
                ["ram"] = 16L << 30,
                ["memory"] = new JsonObject { ["guest_mib"] = 1024, ["thp"] = true },
            },
            Scenario = scenario,
            Counters = counters,
            DirectMap = new DirectMapBeforeAfter(
                new DirectMapSizes(20_480, 2_076_672, 14_680_064),
                new DirectMapSizes(1_069_056, 3_125_248, 12_582_912)),
            LatencyNs = new OrderedDictionary<string, LatencySummary>
            {
                [LatencyNames.Fault] = Latency(faults, faultP50, faultP99),
                [LatencyNames.PopulatePage] = Latency(65_536, 900, 4_000),
            },
            Sim = new SimFigures(1_500_000_000, faults / 1.5, populateBytesPerSecond),
            Wall = new WallFigures
            {
                Seconds = 2.25,
                Threads = 2,
                FaultsPerWallSecond = faults / 2.25,
                BytesPerSimulatedFrame = 8.5,
                FaultsPerWallSecondSamples = wallSamples,
            },
            Digest = "sha256:0f3a9c",
            Passes =
            [
                new PassReport(0, CounterNames.CreateZeroed(), new DirectMapSizes(1_048_576, 1_048_576, -2_097_152), "memcpy"),
            ],
            Exposure = new ExposureReport(4_096, 12, 1_250.5, 9_000),
            Violations = [],
        };
    }

    public static LatencySummary Latency(long count, long p50, long p99) => new()
    {
        Count = count,
        P50 = p50,
        P90 = p50 * 3,
        P99 = p99,
        P999 = p99 * 2,
        Max = p99 * 5,
        Mean = p50 * 1.25,
        Histogram =
        [
            new HistogramBucket(512, count / 16),
            new HistogramBucket(1_024, count / 8),
            new HistogramBucket(2_048, count / 2),
            new HistogramBucket(4_096, count / 8),
            new HistogramBucket(8_192, count / 8),
            new HistogramBucket(16_384, count / 16 - 1),
            new HistogramBucket(65_536, 1),
        ],
    };

    public static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);
}

/// <summary>A 1 × 4 × 2 sweep (arch × cpus × strategy) with figures that grow with CPU count.</summary>
internal static class CannedSweep
{
    public static readonly string[] Cpus = ["1", "4", "16", "64"];
    public static readonly string[] Strategies = ["direct-map", "per-folio"];

    public static PerfSim.Reporting.Sweeps.SweepReport Full()
    {
        PerfSim.Reporting.Sweeps.MatrixAxis[] matrix =
        [
            new("arch", ["x86_64"]),
            new("cpus", Cpus),
            new("strategy", Strategies),
        ];
        var runs = PerfSim.Reporting.Sweeps.SweepKey.All(matrix).Select((key, ordinal) =>
        {
            int cpus = int.Parse(key.Split(',')[1][5..], System.Globalization.CultureInfo.InvariantCulture);
            bool perFolio = key.EndsWith("per-folio", StringComparison.Ordinal);
            RunReport report = Canned.Report(
                strategy: perFolio ? "per-folio" : "direct-map",
                cpus: cpus,
                ipis: perFolio ? 100L * cpus : 0,
                faultP50: 1_000 + (perFolio ? 40L * cpus : 0),
                faultP99: 5_000 + (perFolio ? 400L * cpus : 10L * cpus),
                populateBytesPerSecond: 1e9 * cpus / (perFolio ? 2 : 1));
            return new PerfSim.Reporting.Sweeps.SweepRun(key, ordinal, report);
        }).ToArray();
        return new PerfSim.Reporting.Sweeps.SweepReport { Matrix = matrix, Runs = runs };
    }

    /// <summary>The full sweep split round-robin into <paramref name="count"/> shards.</summary>
    public static PerfSim.Reporting.Sweeps.SweepReport[] Shards(int count)
    {
        PerfSim.Reporting.Sweeps.SweepReport full = Full();
        return Enumerable.Range(0, count).Select(i => full with
        {
            Shard = new PerfSim.Reporting.Sweeps.ShardInfo(i, count),
            Runs = full.Runs.Where(r => r.Ordinal % count == i).ToArray(),
        }).ToArray();
    }
}
