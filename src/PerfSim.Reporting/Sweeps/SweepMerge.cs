using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Sweeps;

/// <summary>
/// Joins the shards of a sweep. The result equals the unsharded sweep: same matrix, every
/// ordinal exactly once, runs in ordinal order, no shard marker. Any inconsistency is refused:
/// different matrices or shard counts, a run twice or missing, shards run with different seeds,
/// a run whose configuration contradicts its key.
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
        bool seedVaried = parts[0].Matrix.Any(a => a.Name == SeedKey);
        (string Value, string Source)? seed = null;
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
                CheckConfig(part.Runs[r], Name(i), r, seedVaried, ref seed);
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

    private const string SeedKey = "seed";

    /// <summary>
    /// The run's configuration must agree with its key wherever the configuration carries a field
    /// named like the axis (<c>cpus=64</c> and <c>"cpus": 64</c>), and every run must share the base
    /// seed unless the matrix varies it: shards run with different seeds do not make one sweep.
    /// </summary>
    private static void CheckConfig(SweepRun run, string source, int index, bool seedVaried, ref (string Value, string Source)? seed)
    {
        JsonObject config = run.Report.Config;
        foreach ((string axis, string value) in run.Values)
        {
            if (config[axis.Replace('-', '_')] is JsonValue field && Normalize(field) is { } actual && actual != Normalize(value))
            {
                throw InputException.At(source, $"$.runs[{index}].report.config.{axis.Replace('-', '_')}",
                    $"{field.ToJsonString()} in run {run.Key}", $"the value of its key ({axis}={value})");
            }
        }

        if (!seedVaried && config[SeedKey] is JsonValue seedField)
        {
            string text = seedField.ToJsonString();
            if (seed is null)
            {
                seed = (text, $"{source} run {run.Key}");
            }
            else if (seed.Value.Value != text)
            {
                throw InputException.At(source, $"$.runs[{index}].report.config.seed",
                    $"{text} in run {run.Key}", $"the seed of every other run ({seed.Value.Value} in {seed.Value.Source}): shards of one sweep share their base seed");
            }
        }
    }

    // Option values are case-insensitive and accept '-' for '_' (x86-64); booleans are on/off;
    // numbers compare by value ("8" and 8).
    private static string? Normalize(JsonValue field) => field.GetValueKind() switch
    {
        JsonValueKind.String => Normalize(field.GetValue<string>()),
        JsonValueKind.Number => Normalize(field.ToJsonString()),
        JsonValueKind.True => "on",
        JsonValueKind.False => "off",
        _ => null,
    };

    private static string Normalize(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            ? number.ToString("R", CultureInfo.InvariantCulture)
            : text.Trim().ToLowerInvariant().Replace('_', '-');
}
