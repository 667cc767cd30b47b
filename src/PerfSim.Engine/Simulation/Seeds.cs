namespace PerfSim.Engine.Simulation;

/// <summary>Deterministic seed derivation (splitmix64). Never <c>HashCode</c>: it is randomised
/// per process, which would make runs irreproducible.</summary>
internal static class Seeds
{
    public static long Derive(long root, long a, long b = 0)
    {
        ulong z = (ulong)root;
        z = Mix(z + 0x9E37_79B9_7F4A_7C15UL + (ulong)a);
        z = Mix(z + 0x9E37_79B9_7F4A_7C15UL + (ulong)b);
        return (long)z;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
