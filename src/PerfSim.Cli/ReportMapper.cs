using System.Globalization;
using System.Text.Json.Nodes;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;

namespace PerfSim.Cli;

/// <summary>Turns the engine's result into the report schema (Reporting knows no engine types).</summary>
internal static class ReportMapper
{
    public static RunReport ToReport(RunResult r, string hostSource)
    {
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

    /// <summary>The fully resolved configuration, cost profile included.</summary>
    public static JsonObject Config(ScenarioConfig c, string hostSource)
    {
        CostProfile costs = c.Costs ?? CostProfile.Default(c.Arch);
        return new JsonObject
        {
            ["scenario"] = c.Scenario,
            ["strategy"] = c.Strategy.Name(),
            ["arch"] = c.Arch.ToCliName(),
            ["cpus"] = c.Cpus,
            ["vcpus"] = c.Vcpus,
            ["ram_bytes"] = c.RamBytes,
            ["host"] = hostSource,
            ["guest_memory_bytes"] = c.GuestMemoryBytes,
            ["pages"] = c.Pages,
            ["passes"] = c.Passes,
            ["seed"] = c.Seed,
            ["threads"] = c.Threads,
            ["populate"] = c.Populate.Name(),
            ["populate_fraction"] = c.PopulateFraction,
            ["folio_order"] = c.FolioOrder,
            ["vms"] = c.Vms,
            ["background_accesses"] = c.BackgroundAccesses,
            ["jump_probability"] = c.JumpProbability,
            ["quantum_ns"] = c.QuantumNs,
            ["gbpages"] = c.GbPages,
            ["rodata_full"] = c.RodataFull,
            ["cost_profile"] = JsonNode.Parse(CostProfileJson.Write(costs)),
        };
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

    public static string Describe(ScenarioConfig c) =>
        string.Create(CultureInfo.InvariantCulture, $"{c.Scenario}: {c.Strategy.Name()} on {c.Arch.ToCliName()}, {c.Cpus} CPUs, {c.Vcpus} vCPUs, seed {c.Seed}");
}
