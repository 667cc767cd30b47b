using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

/// <summary>Tiny TLB geometries for the seeded tests: eviction, set conflicts and mixed sizes happen constantly.</summary>
internal static class TestGeometries
{
    /// <summary>4 sets × 3 ways for 4K and 2M, one 2-way set for 1G.</summary>
    public static TlbGeometry Tiny { get; } = new("tiny", "test",
        [new TlbArrayGeometry(4, 3, true, true, false), new TlbArrayGeometry(1, 2, false, false, true)]);

    /// <summary>One 8 × 2 array for every size.</summary>
    public static TlbGeometry Unified { get; } = new("unified", "test",
        [new TlbArrayGeometry(8, 2, true, true, true)]);
}
