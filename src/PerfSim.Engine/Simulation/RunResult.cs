using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;

namespace PerfSim.Engine.Simulation;

/// <summary>One pass (or phase) of a multi-pass scenario: its counter deltas and DirectMap change.</summary>
public sealed record PassResult(int Pass, string Label, IReadOnlyDictionary<string, long> Counters, DirectMapCounts DirectMapDelta);

/// <summary>Everything a run produced, in simulated terms (and how fast PerfSim ran it).</summary>
public sealed record RunResult
{
    public required ScenarioConfig Config { get; init; }

    /// <summary>Counters in report order (the required keys first).</summary>
    public required IReadOnlyList<KeyValuePair<string, long>> Counters { get; init; }

    public required DirectMapCounts DirectMapBefore { get; init; }

    public required DirectMapCounts DirectMapAfter { get; init; }

    public required LatencyHistogram FaultLatency { get; init; }

    public required LatencyHistogram PopulateLatency { get; init; }

    /// <summary>Faults' own work, without what they waited for (<see cref="FaultLatency"/> has it).</summary>
    public required LatencyHistogram FaultService { get; init; }

    public required LatencyHistogram PopulateService { get; init; }

    public required long ElapsedSimNs { get; init; }

    public required long PopulatedBytes { get; init; }

    public required long Faults { get; init; }

    public required double WallSeconds { get; init; }

    public required long NativeBytes { get; init; }

    public required long Frames { get; init; }

    public required string Digest { get; init; }

    public required StaleExposure Exposure { get; init; }

    public required IReadOnlyList<PassResult> Passes { get; init; }

    public required IReadOnlyList<string> Violations { get; init; }

    public double BytesPerFrame => Frames == 0 ? 0 : (double)NativeBytes / Frames;

    public double FaultsPerSimSecond => ElapsedSimNs == 0 ? 0 : Faults * 1e9 / ElapsedSimNs;

    public double FaultsPerWallSecond => WallSeconds <= 0 ? 0 : Faults / WallSeconds;

    public double PopulateBytesPerSimSecond => ElapsedSimNs == 0 ? 0 : PopulatedBytes * 1e9 / ElapsedSimNs;

    public long Counter(string name) => Counters.FirstOrDefault(c => c.Key == name).Value;
}
