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
        var figures = new List<HeadlineFigure>
        {
            Count("faults", "", faults),
            Count("fault_p50", "ns", fault.P50),
            Count("fault_p99", "ns", fault.P99),
            Count("fault_p999", "ns", fault.P999),
            Count("populate_page_p50", "ns", populate.P50),
            Count("populate_page_p99", "ns", populate.P99),
            Rate("faults_per_sim_second", "1/s", report.Sim.FaultsPerSimSecond),
            Rate("populate_bytes_per_sim_second", "B/s", report.Sim.PopulateBytesPerSimSecond),
            Ratio("ipis_per_1000_faults", "", PerThousandFaults(report, report.Counter(CounterNames.Ipis))),
            Ratio("flushes_per_1000_faults", "", PerThousandFaults(report, Flushes(report))),
            Count(CounterNames.Level2Splits, "", report.Counter(CounterNames.Level2Splits)),
            Count(CounterNames.Level3Splits, "", report.Counter(CounterNames.Level3Splits)),
            Count("direct_map_4k_after", "kB", report.DirectMap.After.DirectMap4k),
            Count("direct_map_2m_after", "kB", report.DirectMap.After.DirectMap2M),
            Count("direct_map_1g_after", "kB", report.DirectMap.After.DirectMap1G),
            Count(CounterNames.StaleTlbAccesses, "", report.Counter(CounterNames.StaleTlbAccesses)),
            Count(CounterNames.Oops, "", report.Counter(CounterNames.Oops)),
            Count(CounterNames.LeakedUnmappedFrames, "", report.Counter(CounterNames.LeakedUnmappedFrames)),
            new("wall_seconds", "s", Invariant.Fixed(report.Wall.Seconds, 3), Invariant.RoundTrip(report.Wall.Seconds)),
            Rate("faults_per_wall_second", "1/s", report.Wall.FaultsPerWallSecond),
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

    private static HeadlineFigure Rate(string name, string unit, double value) =>
        new(name, unit, Invariant.Compact(value), Invariant.RoundTrip(value));

    private static HeadlineFigure Ratio(string name, string unit, double value) =>
        new(name, unit, Invariant.Fixed(value, 2), Invariant.RoundTrip(value));
}
