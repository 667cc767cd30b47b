using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Sweeps;

/// <summary>
/// Joins the shards of a sweep. The result equals the unsharded sweep: same matrix, every
/// ordinal exactly once, runs in ordinal order, no shard marker.
/// </summary>
public static class SweepMerge
{
    /// <summary>Reads and merges shard files; messages name the offending file.</summary>
    public static SweepReport MergeFiles(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        string[] files = paths.ToArray();
        return Merge(files.Select(SweepJson.ReadFile).ToArray(), files);
    }

    /// <summary>Merges shards; <paramref name="sourceNames"/> (parallel to the shards) name them in messages.</summary>
    public static SweepReport Merge(IEnumerable<SweepReport> shards, IReadOnlyList<string>? sourceNames = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        SweepReport[] parts = shards.ToArray();
        string Name(int i) => sourceNames is not null && i < sourceNames.Count ? sourceNames[i] : $"shard input #{i + 1}";
        if (parts.Length == 0)
        {
            throw new InputException("sweep merge: found no shards, expected at least one sweep file");
        }

        var owner = new Dictionary<int, int>();
        var shardOwner = new Dictionary<int, int>();
        for (int i = 0; i < parts.Length; i++)
        {
            SweepReport part = parts[i];
            if (!part.HasSameMatrix(parts[0]))
            {
                throw InputException.At(Name(i), "$.matrix", $"a matrix different from {Name(0)}'s", "every shard of one sweep to have the same matrix");
            }

            if (part.Shard is { } shard)
            {
                if (parts[0].Shard is { } first && first.Count != shard.Count)
                {
                    throw InputException.At(Name(i), "$.shard.count", $"{shard.Count} while {Name(0)} has {first.Count}", "the same shard count in every shard");
                }

                if (!shardOwner.TryAdd(shard.Index, i))
                {
                    throw InputException.At(Name(i), "$.shard.index", $"{shard.Index}, also in {Name(shardOwner[shard.Index])}", "each shard index once");
                }
            }

            for (int r = 0; r < part.Runs.Count; r++)
            {
                int ordinal = part.Runs[r].Ordinal;
                if (!owner.TryAdd(ordinal, i))
                {
                    throw InputException.At(
                        Name(i), $"$.runs[{r}].ordinal", $"{ordinal} ({part.Runs[r].Key}), also in {Name(owner[ordinal])}", "each run in exactly one shard");
                }
            }
        }

        int size = parts[0].MatrixSize;
        int[] missing = Enumerable.Range(0, size).Where(o => !owner.ContainsKey(o)).ToArray();
        if (missing.Length > 0)
        {
            string list = string.Join("; ", missing.Take(5).Select(o => $"{o} ({SweepKey.At(parts[0].Matrix, o)})"));
            throw new InputException(
                $"sweep merge: $.runs: found {size - missing.Length} of {size} runs, expected every run of the matrix; missing ordinal(s) {list}{(missing.Length > 5 ? "; ..." : "")}");
        }

        return new SweepReport
        {
            Matrix = parts[0].Matrix,
            Shard = null,
            Runs = parts.SelectMany(p => p.Runs).OrderBy(r => r.Ordinal).ToArray(),
        };
    }
}
