using System.Globalization;
using System.Text.Json.Nodes;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;

namespace PerfSim.Engine.Reports;

/// <summary>
/// Turns the engine's result into the report schema. It lives in the Engine, which references
/// Reporting, because the mapping needs both the engine's types and the field table
/// (<see cref="ScenarioFields"/>) that writes the config; Reporting stays free of engine types,
/// so it reads, compares and renders reports without a simulator.
/// </summary>
public static class ReportMapper
{
    public static RunReport ToReport(RunResult r, string hostSource)
    {
        ArgumentNullException.ThrowIfNull(r);
        ScenarioConfig c = r.Config;
        var counters = new OrderedDictionary<string, long>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, long> kv in r.Counters)
        {
            counters.Add(kv.Key, kv.Value);
        }

        var latency = new OrderedDictionary<string, LatencySummary>(StringComparer.Ordinal)
        {
            [LatencyNames.Fault] = Summary(r.FaultLatency),
            [LatencyNames.PopulatePage] = Summary(r.PopulateLatency),
            [LatencyNames.FaultService] = Summary(r.FaultService),
            [LatencyNames.PopulatePageService] = Summary(r.PopulateService),
        };

        return new RunReport
        {
            Config = Config(c, hostSource),
            Scenario = c.Scenario,
            Counters = counters,
            DirectMap = new DirectMapBeforeAfter(Sizes(r.DirectMapBefore), Sizes(r.DirectMapAfter)),
            LatencyNs = latency,
            Sim = new SimFigures(r.ElapsedSimNs, r.FaultsPerSimSecond, r.PopulateBytesPerSimSecond),
            Wall = new WallFigures
            {
                Seconds = r.WallSeconds,
                Threads = c.Threads,
                FaultsPerWallSecond = r.FaultsPerWallSecond,
                BytesPerSimulatedFrame = r.BytesPerFrame,
            },
            Digest = r.Digest,
            Passes = r.Passes.Count == 0 ? null : [.. r.Passes.Select(Pass)],
            Exposure = new ExposureReport(r.Exposure.ZappedPages, r.Exposure.HolderPairs, r.Exposure.MeanWindowNs, r.Exposure.WindowMaxNs),
            Violations = r.Violations.Count == 0 ? null : r.Violations,
        };
    }

    /// <summary>Key of the report config's host source: "16 GiB", or the --e820/--meminfo file.</summary>
    public const string HostKey = "host";

    /// <summary>The fully resolved configuration: the fields its scenario uses (the field table's
    /// keys and values, so that the config minus <see cref="HostKey"/> reads back as a scenario
    /// file), where the host's RAM came from, and the cost profile.</summary>
    public static JsonObject Config(ScenarioConfig c, string hostSource)
    {
        ArgumentNullException.ThrowIfNull(c);
        JsonObject config = ScenarioFields.Fields(c, onlyUsed: true);
        config[HostKey] = hostSource;
        config[ScenarioFields.CostProfileKey] = JsonNode.Parse(CostProfileJson.Write(c.Costs ?? CostProfile.Default(c.Arch)));
        return config;
    }

    private static LatencySummary Summary(LatencyHistogram h) => new()
    {
        Count = h.Count,
        P50 = h.Percentile(0.50),
        P90 = h.Percentile(0.90),
        P99 = h.Percentile(0.99),
        P999 = h.Percentile(0.999),
        Max = h.Max,
        Mean = Math.Round(h.Mean, 3),
        Histogram = [.. h.LogBuckets().Select(b => new HistogramBucket(b.UpperBoundNs, b.Count))],
    };

    private static DirectMapSizes Sizes(DirectMapCounts c) => new(c.DirectMap4k, c.DirectMap2M, c.DirectMap1G);

    private static PassReport Pass(PassResult p)
    {
        var counters = new OrderedDictionary<string, long>(StringComparer.Ordinal);
        foreach ((string key, long value) in p.Counters)
        {
            counters.Add(key, value);
        }

        return new PassReport(p.Pass, counters, Sizes(p.DirectMapDelta), p.Label);
    }

    /// <summary>What ran, in one line: "guest-boot: per-folio on x86_64, 64 CPUs, 16 vCPUs, seed 1".</summary>
    public static string Describe(ScenarioConfig c) =>
        string.Create(CultureInfo.InvariantCulture, $"{c.Scenario}: {c.Strategy.Name()} on {c.Arch.ToCliName()}, {c.Cpus} CPUs, {c.Vcpus} vCPUs, seed {c.Seed}");
}
