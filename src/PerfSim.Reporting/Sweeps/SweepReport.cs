namespace PerfSim.Reporting.Sweeps;

/// <summary>
/// The runs of a configuration matrix (schema <see cref="SchemaVersion"/>). A sharded sweep
/// writes one file per shard, each holding a subset of the runs; <see cref="SweepMerge"/> puts
/// them back together.
/// </summary>
public sealed record SweepReport
{
    public const string SchemaVersion = "perfsim.sweep/1";

    /// <summary>The varied keys in order; the last axis varies fastest in ordinals.</summary>
    public required IReadOnlyList<MatrixAxis> Matrix { get; init; }

    /// <summary>Which part of the matrix this file holds, or null for a whole sweep.</summary>
    public ShardInfo? Shard { get; init; }

    public required IReadOnlyList<SweepRun> Runs { get; init; }

    /// <summary>Number of runs in the full matrix.</summary>
    public int MatrixSize => Matrix.Aggregate(1, (size, axis) => checked(size * axis.Values.Count));

    /// <summary>True when both matrices have the same axes with the same values in the same order.</summary>
    public bool HasSameMatrix(SweepReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Matrix.Count == other.Matrix.Count
            && Matrix.Zip(other.Matrix).All(p => p.First.Name == p.Second.Name && p.First.Values.SequenceEqual(p.Second.Values, StringComparer.Ordinal));
    }
}

/// <summary>One varied configuration key and its values, in sweep order.</summary>
public sealed record MatrixAxis(string Name, IReadOnlyList<string> Values);

/// <summary>Shard <see cref="Index"/> (0-based) of <see cref="Count"/>.</summary>
public sealed record ShardInfo(int Index, int Count);

/// <summary>One run: its canonical key, its position in the full matrix and its report.</summary>
public sealed record SweepRun(string Key, int Ordinal, RunReport Report)
{
    /// <summary>The varied values of this run, in matrix order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Values => SweepKey.Parse(Key);

    public string Value(string axis) =>
        Values.FirstOrDefault(v => v.Key == axis).Value ?? throw new KeyNotFoundException($"Run {Key} has no axis \"{axis}\".");
}

/// <summary>
/// The canonical run key, <c>arch=x86_64,cpus=64,strategy=per-folio</c>: axes in matrix order,
/// so the same configuration always has the same key and baselines match across sweeps.
/// </summary>
public static class SweepKey
{
    public static string Format(IEnumerable<KeyValuePair<string, string>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return string.Join(",", values.Select(v =>
        {
            CheckPart(v.Key);
            CheckPart(v.Value);
            return $"{v.Key}={v.Value}";
        }));
    }

    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Split(',').Select(part =>
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == part.Length - 1 || part.IndexOf('=', eq + 1) >= 0)
            {
                throw new FormatException($"\"{key}\" is not a run key of the form name=value,name=value.");
            }

            return new KeyValuePair<string, string>(part[..eq], part[(eq + 1)..]);
        }).ToArray();
    }

    /// <summary>The key of the run at <paramref name="ordinal"/> (last axis fastest).</summary>
    public static string At(IReadOnlyList<MatrixAxis> matrix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var values = new KeyValuePair<string, string>[matrix.Count];
        int rest = ordinal;
        for (int i = matrix.Count - 1; i >= 0; i--)
        {
            values[i] = new(matrix[i].Name, matrix[i].Values[rest % matrix[i].Values.Count]);
            rest /= matrix[i].Values.Count;
        }

        return rest == 0 && ordinal >= 0 ? Format(values) : throw new ArgumentOutOfRangeException(nameof(ordinal));
    }

    /// <summary>Every key of the matrix in ordinal order.</summary>
    public static IEnumerable<string> All(IReadOnlyList<MatrixAxis> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int size = matrix.Aggregate(1, (s, a) => checked(s * a.Values.Count));
        return Enumerable.Range(0, size).Select(i => At(matrix, i));
    }

    internal static void CheckPart(string part)
    {
        if (part.Length == 0 || part.AsSpan().IndexOfAny(",=") >= 0)
        {
            throw new ArgumentException($"\"{part}\" cannot be part of a run key: it must be non-empty without ',' or '='.");
        }
    }
}
