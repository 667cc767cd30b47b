using System.Text.Json.Nodes;

namespace PerfSim.Reporting;

/// <summary>
/// The result of one simulation run, as written to <c>report.json</c> (schema
/// <see cref="SchemaVersion"/>). Simulated figures (counters, latencies, <see cref="Sim"/>) are
/// deterministic model outputs for a seed and configuration; <see cref="Wall"/> figures measure
/// PerfSim itself and vary from run to run.
/// </summary>
public sealed record RunReport
{
    public const string SchemaVersion = "perfsim.report/1";

    /// <summary>The fully resolved configuration, opaque to Reporting.</summary>
    public required JsonObject Config { get; init; }

    public required string Scenario { get; init; }

    /// <summary>Event counters in engine order; always holds <see cref="CounterNames.Required"/>.</summary>
    public required OrderedDictionary<string, long> Counters { get; init; }

    public required DirectMapBeforeAfter DirectMap { get; init; }

    /// <summary>Latency per operation; always holds <see cref="LatencyNames.Required"/>.</summary>
    public required OrderedDictionary<string, LatencySummary> LatencyNs { get; init; }

    public required SimFigures Sim { get; init; }

    public required WallFigures Wall { get; init; }

    /// <summary>Digest of the simulated outcome; equal digests mean identical model behaviour.</summary>
    public required string Digest { get; init; }

    public IReadOnlyList<PassReport>? Passes { get; init; }

    public ExposureReport? Exposure { get; init; }

    public IReadOnlyList<string>? Violations { get; init; }

    /// <summary>The counter's value, or 0 when the engine did not report it.</summary>
    public long Counter(string name) => Counters.TryGetValue(name, out long value) ? value : 0;
}

/// <summary>Names of the counters every report carries, in canonical order.</summary>
public static class CounterNames
{
    public const string Faults = "faults";
    public const string DmZaps = "dm_zaps";
    public const string DmRestores = "dm_restores";
    public const string Level2Splits = "direct_map_level2_splits";
    public const string Level3Splits = "direct_map_level3_splits";
    public const string PtPages = "pt_pages";
    public const string FlushKernelRange = "flush_kernel_range";
    public const string FlushAll = "flush_all";
    public const string Ipis = "ipis";
    public const string Invlpg = "invlpg";
    public const string TlbMisses = "tlb_misses";
    public const string StaleTlbAccesses = "stale_tlb_accesses";
    public const string MermapGets = "mermap_gets";
    public const string MermapLocalFlushes = "mermap_local_flushes";
    public const string Oops = "oops";
    public const string LeakedUnmappedFrames = "leaked_unmapped_frames";

    public static IReadOnlyList<string> Required { get; } =
    [
        Faults, DmZaps, DmRestores, Level2Splits, Level3Splits, PtPages, FlushKernelRange, FlushAll,
        Ipis, Invlpg, TlbMisses, StaleTlbAccesses, MermapGets, MermapLocalFlushes, Oops, LeakedUnmappedFrames,
    ];

    /// <summary>A counter map holding every required counter at zero, in canonical order.</summary>
    public static OrderedDictionary<string, long> CreateZeroed()
    {
        var counters = new OrderedDictionary<string, long>(StringComparer.Ordinal);
        foreach (string name in Required)
        {
            counters.Add(name, 0);
        }

        return counters;
    }
}

/// <summary>Names of the latency distributions every report carries.</summary>
public static class LatencyNames
{
    public const string Fault = "fault";
    public const string PopulatePage = "populate_page";

    /// <summary>A fault's own work: <see cref="Fault"/> minus the lock waits, interrupts, VM exits
    /// and flush waits it sat through.</summary>
    public const string FaultService = "fault_service";

    public const string PopulatePageService = "populate_page_service";

    public static IReadOnlyList<string> Required { get; } = [Fault, PopulatePage];
}

/// <summary>The kernel's /proc/meminfo DirectMap lines, in kB.</summary>
public sealed record DirectMapSizes(long DirectMap4k, long DirectMap2M, long DirectMap1G)
{
    public long TotalKb => DirectMap4k + DirectMap2M + DirectMap1G;
}

public sealed record DirectMapBeforeAfter(DirectMapSizes Before, DirectMapSizes After);

/// <summary>
/// A latency distribution in simulated ns. <see cref="Histogram"/> holds log-spaced buckets in
/// increasing <see cref="HistogramBucket.LeNs"/> order; a bucket counts samples in
/// (previous bound, <c>LeNs</c>].
/// </summary>
public sealed record LatencySummary
{
    public required long Count { get; init; }
    public required long P50 { get; init; }
    public required long P90 { get; init; }
    public required long P99 { get; init; }
    public required long P999 { get; init; }
    public required long Max { get; init; }
    public required double Mean { get; init; }
    public required IReadOnlyList<HistogramBucket> Histogram { get; init; }
}

public sealed record HistogramBucket(long LeNs, long Count);

/// <summary>Rates in simulated time.</summary>
public sealed record SimFigures(long ElapsedNs, double FaultsPerSimSecond, double PopulateBytesPerSimSecond);

/// <summary>
/// How fast PerfSim itself ran. <see cref="FaultsPerWallSecondSamples"/> holds repeated
/// measurements of the same run, the only basis on which the comparer gates wall figures.
/// </summary>
public sealed record WallFigures
{
    public required double Seconds { get; init; }
    public required int Threads { get; init; }
    public required double FaultsPerWallSecond { get; init; }
    public required double BytesPerSimulatedFrame { get; init; }
    public IReadOnlyList<double>? FaultsPerWallSecondSamples { get; init; }
}

/// <summary>Counters and DirectMap change of one pass of a multi-pass scenario.</summary>
/// <param name="Label">What the pass did, e.g. the population path of a populate pass
/// (<c>memcpy</c>, <c>restore-by-uffd</c>); "" in reports written before labels existed.</param>
public sealed record PassReport(int Pass, OrderedDictionary<string, long> Counters, DirectMapSizes DirectMapDelta, string Label = "");

/// <summary>Stale-translation exposure: how long zapped pages stayed reachable through stale TLB entries.</summary>
public sealed record ExposureReport(long ZappedPages, long StaleCpuEntries, double MeanWindowNs, double MaxWindowNs);
