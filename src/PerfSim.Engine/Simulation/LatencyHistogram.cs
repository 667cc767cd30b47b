using System.Numerics;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// A log-linear latency histogram (HdrHistogram-style): values below 32 ns are exact, above that
/// each power of two is split into 16 buckets, so a percentile is within 1/16 (6.25%) of the true
/// value. Fixed size, no allocation per sample; histograms merge by adding buckets, so per-CPU
/// histograms combine into the same result in any order.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 4;
    private const int SubBuckets = 1 << SubBits;
    private const int Exact = 2 * SubBuckets;

    /// <summary>Enough buckets for any non-negative long.</summary>
    public const int BucketCount = Exact + ((63 - SubBits - 1) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public long Max { get; private set; }

    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    public void Record(long valueNs)
    {
        long v = Math.Max(0, valueNs);
        _counts[Index(v)]++;
        Count++;
        Sum += v;
        Max = Math.Max(Max, v);
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The smallest bucket upper bound at or below which <paramref name="quantile"/> of
    /// the samples lie (clamped to the exact maximum); 0 when empty.</summary>
    public long Percentile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = (long)Math.Ceiling(quantile * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), Max);
            }
        }

        return Max;
    }

    /// <summary>Counts in log-spaced buckets, <paramref name="perOctave"/> per power of two, each
    /// labelled with the largest value it can hold: for charts and reports.</summary>
    public IEnumerable<(long UpperBoundNs, long Count)> LogBuckets(int perOctave = 4)
    {
        var groups = new SortedDictionary<int, (long Upper, long Count)>();
        for (int i = 0; i < BucketCount; i++)
        {
            if (_counts[i] != 0)
            {
                long upper = UpperBound(i);
                int key = (int)Math.Floor(Math.Log2(upper + 1.0) * perOctave);
                (long u, long c) = groups.GetValueOrDefault(key);
                groups[key] = (Math.Max(u, upper), c + _counts[i]);
            }
        }

        if (groups.Count == 0)
        {
            yield break;
        }

        // Empty buckets between the first and the last are reported too, so that every bucket
        // spans exactly 1/perOctave of a power of two and a chart draws true widths. Bucket `key`
        // holds u with u + 1 < 2^((key + 1) / perOctave), so its largest integer is
        // ceil(2^((key + 1) / perOctave)) − 2 (not − 1: at 2^k that would repeat the next bucket's
        // bound). Below ~8 ns a quarter octave can hold no integer at all: such buckets are skipped
        // so that bounds stay strictly increasing, as the report format requires.
        long previous = -1;
        for (int key = groups.Keys.First(); key <= groups.Keys.Last(); key++)
        {
            (long Upper, long Count) bucket = groups.TryGetValue(key, out var g)
                ? g
                : ((long)Math.Ceiling(Math.Pow(2, (key + 1.0) / perOctave)) - 2, 0);
            if (bucket.Upper > previous)
            {
                previous = bucket.Upper;
                yield return bucket;
            }
        }
    }

    /// <summary>A digest input: every bucket count, in order.</summary>
    public ReadOnlySpan<long> Buckets => _counts;

    internal static int Index(long v)
    {
        if (v < Exact)
        {
            return (int)v;
        }

        int msb = 63 - BitOperations.LeadingZeroCount((ulong)v);
        int shift = msb - SubBits;
        return Exact + ((shift - 1) * SubBuckets) + (int)((v >> shift) & (SubBuckets - 1));
    }

    internal static long UpperBound(int index)
    {
        if (index < Exact)
        {
            return index;
        }

        int shift = ((index - Exact) / SubBuckets) + 1;
        long sub = (index - Exact) % SubBuckets;
        long upper = ((SubBuckets + sub + 1) << shift) - 1;
        return upper < 0 ? long.MaxValue : upper;
    }
}
