using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerfSim.Reporting.Comparison;
using PerfSim.Reporting.Input;

namespace PerfSim.Benchmarks.Gate;

/// <summary>What a benchmark may allocate per operation (style.md §5.6, Garnet's scheme).</summary>
/// <param name="Bytes">Expected managed bytes per operation (0 for hot paths).</param>
/// <param name="Tolerance">Relative growth accepted (0.05 = 5%); 0 for everything deterministic.</param>
/// <param name="WarnOnly">Report growth without failing (for the few figures that are not deterministic).</param>
/// <param name="Why">Why the figure is what it is (kept when the file is rewritten).</param>
/// <param name="SlackBytes">Absolute bytes accepted on top, for slow operations: BDN divides every
/// byte allocated during the measured iteration, on any thread, by its operations, so a one-off
/// runtime allocation (a tier-up compiled in the background) shows as a few bytes per operation
/// when an iteration holds only ~10,000 of them. Kept below 24 B, the smallest object, so an
/// allocation on every operation still fails.</param>
public sealed record AllocationExpectation(long Bytes, double Tolerance = 0, bool WarnOnly = false, string? Why = null, long SlackBytes = 0)
{
    /// <summary>The largest figure that still passes.</summary>
    public long Limit => (long)Math.Floor(Bytes * (1 + Tolerance)) + SlackBytes;
}

public enum GateOutcome
{
    Ok,
    Warning,
    Failure,
}

/// <summary>One benchmark's allocation verdict.</summary>
public sealed record AllocationFinding(string FullName, long? Expected, long? Actual, GateOutcome Outcome, string Message);

/// <summary>
/// The allocation gate: BenchmarkDotNet's <c>BytesAllocatedPerOperation</c> (exact, the same on
/// every run of the same code) must not exceed <c>perf-reports/allocations.json</c>. A benchmark
/// missing from the file fails too, so a new benchmark's allocations are recorded on purpose.
/// </summary>
public static class AllocationGate
{
    public static IReadOnlyDictionary<string, AllocationExpectation> ReadExpectations(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path);
        return Read(document.Root);
    }

    public static IReadOnlyDictionary<string, AllocationExpectation> ParseExpectations(string json, string source = "allocations.json")
    {
        using InputDocument document = JsonInput.Parse(json, source);
        return Read(document.Root);
    }

    private static Dictionary<string, AllocationExpectation> Read(InputElement root)
    {
        var result = new Dictionary<string, AllocationExpectation>(StringComparer.Ordinal);
        InputObject file = root.AsObject("comment", "benchmarks");
        foreach ((string name, InputElement value) in file.Required("benchmarks", "an object of FullName: {bytes, tolerance?, warn_only?, why?}").AsOpenObject().Properties())
        {
            InputObject entry = value.AsObject("bytes", "tolerance", "slack_bytes", "warn_only", "why");
            result[name] = new AllocationExpectation(
                entry.GetInt64("bytes", min: 0),
                entry.Optional("tolerance")?.AsDouble(min: 0, max: 10) ?? 0,
                entry.Optional("warn_only") is { } w && (w.Kind == JsonValueKind.True || (w.Kind != JsonValueKind.False ? throw w.Error("true or false") : false)),
                entry.Optional("why")?.AsString(),
                entry.Optional("slack_bytes")?.AsInt64(min: 0, max: 23) ?? 0);
        }

        return result;
    }

    public static IReadOnlyList<AllocationFinding> Check(IReadOnlyDictionary<string, AllocationExpectation> expected, IEnumerable<BdnBenchmark> results)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(results);
        var findings = new List<AllocationFinding>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (BdnBenchmark result in results)
        {
            seen.Add(result.FullName);
            expected.TryGetValue(result.FullName, out AllocationExpectation? e);
            findings.Add((e, result.BytesAllocatedPerOperation) switch
            {
                (_, null) => new(result.FullName, e?.Bytes, null, GateOutcome.Failure, "no allocation figure: the benchmark needs [MemoryDiagnoser] (or it failed)"),
                (null, long actual) => new(result.FullName, null, actual, GateOutcome.Failure, "not in the allocations file: record it on purpose (--update-allocations)"),
                ({ } x, long actual) when actual > x.Limit => new(result.FullName, x.Bytes, actual,
                    x.WarnOnly ? GateOutcome.Warning : GateOutcome.Failure,
                    Invariant($"allocates {actual} B/op, more than the limit of {x.Limit} B/op{(x.WarnOnly ? " (warn-only)" : "")}")),
                ({ } x, long actual) when actual < x.Bytes => new(result.FullName, x.Bytes, actual, GateOutcome.Ok, Invariant($"allocates less than recorded ({actual} < {x.Bytes} B/op): lower the file's figure")),
                ({ } x, long actual) => new(result.FullName, x.Bytes, actual, GateOutcome.Ok, ""),
            });
        }

        findings.AddRange(expected.Keys.Where(name => !seen.Contains(name)).Order(StringComparer.Ordinal)
            .Select(name => new AllocationFinding(name, expected[name].Bytes, null, GateOutcome.Warning, "recorded but not run (filtered out, or renamed?)")));
        return findings;
    }

    /// <summary>The allocations file with every benchmark's current figure, keeping the tolerance,
    /// warn-only marker and reason of entries that exist, and the entries that were not run.</summary>
    public static string Update(IReadOnlyDictionary<string, AllocationExpectation> existing, IEnumerable<BdnBenchmark> results)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(results);
        var merged = new SortedDictionary<string, AllocationExpectation>(existing.ToDictionary(), StringComparer.Ordinal);
        foreach (BdnBenchmark result in results)
        {
            if (result.BytesAllocatedPerOperation is long bytes)
            {
                merged[result.FullName] = existing.TryGetValue(result.FullName, out AllocationExpectation? old) ? old with { Bytes = bytes } : new AllocationExpectation(bytes);
            }
        }

        var benchmarks = new JsonObject();
        foreach ((string name, AllocationExpectation e) in merged)
        {
            var entry = new JsonObject { ["bytes"] = e.Bytes };
            if (e.Tolerance > 0)
            {
                entry["tolerance"] = e.Tolerance;
            }

            if (e.SlackBytes > 0)
            {
                entry["slack_bytes"] = e.SlackBytes;
            }

            if (e.WarnOnly)
            {
                entry["warn_only"] = true;
            }

            if (e.Why is not null)
            {
                entry["why"] = e.Why;
            }

            benchmarks[name] = entry;
        }

        var file = new JsonObject
        {
            ["comment"] = "Managed bytes allocated per benchmark operation (BenchmarkDotNet BytesAllocatedPerOperation). The perf gate fails when a benchmark allocates more than bytes * (1 + tolerance) + slack_bytes; a benchmark missing here fails too. Rewrite on purpose with: dotnet run -c Release --project bench/PerfSim.Benchmarks -- --quick --update-allocations --filter '*' (see README, Benchmarks).",
            ["benchmarks"] = benchmarks,
        };
        return file.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
