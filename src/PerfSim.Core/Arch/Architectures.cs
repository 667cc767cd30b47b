namespace PerfSim.Core.Arch;

/// <summary>The registry of <see cref="ArchDescriptor"/>s, one per <see cref="ArchKind"/>, in enum
/// order. Adding an architecture: an enum member, a descriptor file, a line here (docs/direct-map.md).</summary>
public static class Architectures
{
    /// <summary>Every architecture, indexed by <see cref="ArchKind"/>.</summary>
    public static IReadOnlyList<ArchDescriptor> All { get; } = InEnumOrder(
    [
        X86_64Arch.Instance,
        X86_64InvlpgbArch.Instance,
        Arm64Arch.Instance,
        Arm64Bbml2Arch.Instance,
    ]);

    /// <summary>The descriptor of <paramref name="kind"/>.</summary>
    public static ArchDescriptor Of(ArchKind kind) => (uint)kind < (uint)All.Count
        ? All[(int)kind]
        : throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown architecture kind");

    /// <summary>Finds an architecture by name (case-insensitive; '_' and '-' are interchangeable).</summary>
    public static bool TryParse(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ArchDescriptor? arch)
    {
        string normalized = Normalize(name ?? string.Empty);
        arch = All.FirstOrDefault(a => Normalize(a.Name) == normalized);
        return arch is not null;
    }

    private static string Normalize(string name) => name.Trim().ToLowerInvariant().Replace('_', '-');

    /// <summary>Checks, once at start-up, that the list has one descriptor per enum member at its index
    /// and that no two names collide.</summary>
    internal static ArchDescriptor[] InEnumOrder(ArchDescriptor[] all)
    {
        ArchKind[] kinds = Enum.GetValues<ArchKind>();
        if (all.Length != kinds.Length)
        {
            throw new InvalidOperationException($"{all.Length} architecture descriptors for {kinds.Length} ArchKind members");
        }

        for (int i = 0; i < all.Length; i++)
        {
            if ((int)all[i].Kind != i)
            {
                throw new InvalidOperationException($"architecture descriptor {all[i].Name} is at index {i}, its kind {all[i].Kind} is {(int)all[i].Kind}");
            }
        }

        if (all.Select(a => Normalize(a.Name)).Distinct().Count() != all.Length)
        {
            throw new InvalidOperationException("two architecture descriptors share a name");
        }

        return all;
    }
}
