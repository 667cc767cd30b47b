using PerfSim.Core.Flush;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>
/// The architecture rules of one run: the TLB geometry and the flush model with its thresholds.
/// Starts from the descriptor (<see cref="For"/>); experiments and tests replace parts with
/// <c>with</c>.
/// </summary>
public sealed record ArchProfile
{
    public required ArchKind Kind { get; init; }

    public required TlbGeometry Geometry { get; init; }

    public required IFlushModel Flush { get; init; }

    /// <summary>The built-in profile of <paramref name="kind"/>.</summary>
    public static ArchProfile For(ArchKind kind) => Architectures.Of(kind).Profile;

    /// <summary>Throws when the geometry or a threshold is outside what can be simulated.</summary>
    public void Validate()
    {
        Geometry.Validate();
        Flush.Validate();
    }
}
