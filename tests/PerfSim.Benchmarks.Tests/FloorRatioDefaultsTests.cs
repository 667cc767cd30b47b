using PerfSim.Benchmarks.Gate;

namespace PerfSim.Benchmarks.Tests;

/// <summary>The tolerance and reason a newly written floor-ratio file gets are the committed
/// record's: they once still said 30% and why after the record had moved to 40%.</summary>
public sealed class FloorRatioDefaultsTests
{
    [Fact]
    public void A_new_file_gets_the_committed_records_tolerance_and_reason()
    {
        FloorRatioBaseline committed = FloorRatioGate.Read(RepoPaths.FloorRatio);

        Assert.Equal(FloorRatioGate.DefaultTolerance, committed.Tolerance);
        // The committed reason opens with its own recording (date, load, pairs); the rest is the default.
        Assert.EndsWith(FloorRatioGate.DefaultWhy, committed.Why, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"Tolerance {FloorRatioGate.DefaultTolerance * 100:0}%"), FloorRatioGate.DefaultWhy, StringComparison.Ordinal);
    }
}
