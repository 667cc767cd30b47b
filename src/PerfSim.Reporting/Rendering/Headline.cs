namespace PerfSim.Reporting.Rendering;

/// <summary>One headline figure: a stable machine name, a unit and the value as text for humans and for CSV.</summary>
public sealed record HeadlineFigure(string Name, string Unit, string Display, string Raw);

/// <summary>
/// The figures a reader looks at first. One list feeds the text summary, the Markdown headline
/// table and the CSV columns, so the three never disagree.
/// </summary>
public static class Headline
{
    public static IReadOnlyList<HeadlineFigure> For(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        long faults = report.Counter(CounterNames.Faults);
        LatencySummary fault = report.LatencyNs[LatencyNames.Fault];
        LatencySummary populate = report.LatencyNs[LatencyNames.PopulatePage];
        // A latency or rate of an operation the run never did does not apply: n/a, not 0.
        bool faulted = fault.Count > 0;
        bool populated = populate.Count > 0;
        var figures = new List<HeadlineFigure>
        {
            Count("faults", "faults", faults),
            Latency("fault_p50", fault.P50, faulted),
            Latency("fault_p99", fault.P99, faulted),
            Latency("fault_p999", fault.P999, faulted),
            Latency("populate_page_p50", populate.P50, populated),
            Latency("populate_page_p99", populate.P99, populated),
            Rate("faults_per_sim_second", "faults/s simulated", faults > 0 ? report.Sim.FaultsPerSimSecond : double.NaN),
            Rate("populate_bytes_per_sim_second", "B/s simulated", populated ? report.Sim.PopulateBytesPerSimSecond : double.NaN),
            Ratio("ipis_per_1000_faults", "IPIs per 1000 faults", PerThousandFaults(report, report.Counter(CounterNames.Ipis))),
            Ratio("flushes_per_1000_faults", "flushes per 1000 faults", PerThousandFaults(report, Flushes(report))),
            Count(CounterNames.Level2Splits, "splits 2M to 4K", report.Counter(CounterNames.Level2Splits)),
            Count(CounterNames.Level3Splits, "splits 1G to 2M", report.Counter(CounterNames.Level3Splits)),
            Count("direct_map_4k_after", "kB", report.DirectMap.After.DirectMap4k),
            Count("direct_map_2m_after", "kB", report.DirectMap.After.DirectMap2M),
            Count("direct_map_1g_after", "kB", report.DirectMap.After.DirectMap1G),
            Count(CounterNames.StaleTlbAccesses, "accesses", report.Counter(CounterNames.StaleTlbAccesses)),
            Count(CounterNames.Oops, "oopses", report.Counter(CounterNames.Oops)),
            Count(CounterNames.LeakedUnmappedFrames, "frames", report.Counter(CounterNames.LeakedUnmappedFrames)),
            new("wall_seconds", "s wall", Invariant.Fixed(report.Wall.Seconds, 3), Invariant.RoundTrip(report.Wall.Seconds)),
            Rate("faults_per_wall_second", "faults/s wall", report.Wall.FaultsPerWallSecond),
            // An identifier, not a quantity: the one row without a unit.
            new("digest", "", report.Digest, report.Digest),
        };
        return figures;
    }

    /// <summary>Kernel-range plus full flushes: every flush that may interrupt other CPUs.</summary>
    public static long Flushes(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Counter(CounterNames.FlushKernelRange) + report.Counter(CounterNames.FlushAll);
    }

    /// <summary>Events per 1,000 faults; NaN when the run had no faults.</summary>
    public static double PerThousandFaults(RunReport report, long events)
    {
        ArgumentNullException.ThrowIfNull(report);
        long faults = report.Counter(CounterNames.Faults);
        return faults == 0 ? double.NaN : events * 1000.0 / faults;
    }

    private static HeadlineFigure Count(string name, string unit, long value) =>
        new(name, unit, Invariant.Integer(value), Invariant.Integer(value));

    private static HeadlineFigure Latency(string name, long value, bool applies) =>
        applies ? Count(name, "ns simulated", value) : new(name, "ns simulated", "n/a", "");

    private static HeadlineFigure Rate(string name, string unit, double value) =>
        new(name, unit, Invariant.Compact(value), Invariant.RoundTrip(value));

    private static HeadlineFigure Ratio(string name, string unit, double value) =>
        new(name, unit, Invariant.Fixed(value, 2), Invariant.RoundTrip(value));
}
