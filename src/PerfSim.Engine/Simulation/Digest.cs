using System.Globalization;
using System.Numerics;
using System.Runtime.Intrinsics;
using PerfSim.Core.Kernel;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// A 64-bit digest of a run's simulated results: the counters, the latency histograms, the
/// DirectMap counts and an order-independent hash of the final state of every frame (owner,
/// mapping, index, flags, direct-map entry). Equal across host thread counts by construction; the
/// frame part is a sum of per-frame hashes, so it can be computed by any number of threads in any
/// order.
/// </summary>
internal static class Digest
{
    public static string Compute(SimKernel k, IReadOnlyList<KeyValuePair<string, long>> counters, LatencyHistogram faults, LatencyHistogram populate, long elapsedNs, ulong frameHash)
    {
        ulong h = Mix(0x5045_5246_5349_4D31UL); // "PERFSIM1"
        foreach (KeyValuePair<string, long> c in counters)
        {
            h = Combine(h, StringHash(c.Key));
            h = Combine(h, (ulong)c.Value);
        }

        foreach (long b in faults.Buckets)
        {
            h = Combine(h, (ulong)b);
        }

        foreach (long b in populate.Buckets)
        {
            h = Combine(h, (ulong)b);
        }

        h = Combine(h, (ulong)faults.Max);
        h = Combine(h, (ulong)populate.Max);
        h = Combine(h, (ulong)elapsedNs);
        h = Combine(h, (ulong)k.DirectMap.Counts.Entries4K);
        h = Combine(h, (ulong)k.DirectMap.Counts.Entries2M);
        h = Combine(h, (ulong)k.DirectMap.Counts.Entries1G);
        h = Combine(h, frameHash);
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static ulong Combine(ulong h, ulong v) => Mix(h ^ Mix(v + 0x9E37_79B9_7F4A_7C15UL));

    private static ulong StringHash(string s)
    {
        ulong h = 1469598103934665603UL;
        foreach (char ch in s)
        {
            h = (h ^ ch) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>splitmix64's finaliser's multipliers (its shifts are 30, 27 and 31).</summary>
    private const ulong MixFirst = 0xBF58_476D_1CE4_E5B9UL;
    private const ulong MixSecond = 0x94D0_49BB_1331_11EBUL;

    /// <summary>splitmix64's finaliser: a cheap, well-mixed 64-bit permutation.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * MixFirst;
        z = (z ^ (z >> 27)) * MixSecond;
        return z ^ (z >> 31);
    }

    /// <summary>The sum of <c>Mix(Mix(p) ^ <paramref name="salt"/>)</c> over the <paramref name="count"/>
    /// values p from <paramref name="start"/>: the frame hash of a run of frames in one state
    /// (<see cref="FinalState"/>), a vector of them at a time; the same sum as one at a time.</summary>
    internal static ulong MixSum(long start, long count, ulong salt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ulong sum = 0;
        long p = start;
        long end = start + count;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ulong> offsets = Vector512<ulong>.Indices;
            Vector512<ulong> salts = Vector512.Create(salt);
            Vector512<ulong> sums = Vector512<ulong>.Zero;
            for (; p + Vector512<ulong>.Count <= end; p += Vector512<ulong>.Count)
            {
                sums += Mix(Mix(Vector512.Create((ulong)p) + offsets) ^ salts);
            }

            sum = Vector512.Sum(sums);
        }

        if (Vector.IsHardwareAccelerated)
        {
            Vector<ulong> offsets = Vector<ulong>.Indices;
            Vector<ulong> salts = new(salt);
            Vector<ulong> sums = Vector<ulong>.Zero;
            for (; p + Vector<ulong>.Count <= end; p += Vector<ulong>.Count)
            {
                sums += Mix(Mix(new Vector<ulong>((ulong)p) + offsets) ^ salts);
            }

            sum += Vector.Sum(sums);
        }

        for (; p < end; p++)
        {
            sum += Mix(Mix((ulong)p) ^ salt);
        }

        return sum;
    }

    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * MixFirst;
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * MixSecond;
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }

    private static Vector<ulong> Mix(Vector<ulong> z)
    {
        z = (z ^ Vector.ShiftRightLogical(z, 30)) * MixFirst;
        z = (z ^ Vector.ShiftRightLogical(z, 27)) * MixSecond;
        return z ^ Vector.ShiftRightLogical(z, 31);
    }
}
