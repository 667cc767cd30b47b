using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Comparison;

/// <summary>One benchmark of a BenchmarkDotNet full JSON report: per-iteration times (ns) and allocations.</summary>
public sealed record BdnBenchmark(string FullName, IReadOnlyList<double> OriginalValuesNs, long? BytesAllocatedPerOperation);

/// <summary>
/// The parts of a BenchmarkDotNet <c>*-report-full.json</c> the comparer uses. BDN's format is
/// foreign and carries many more fields, so extra keys are allowed; the fields read are checked
/// strictly (types, ranges, unique <c>FullName</c>s).
/// </summary>
public sealed record BdnReport(string Title, IReadOnlyList<BdnBenchmark> Benchmarks)
{
    public static BdnReport ReadFile(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path);
        return Read(document.Root);
    }

    public static BdnReport Parse(string json, string sourceName = "report-full.json")
    {
        using InputDocument document = JsonInput.Parse(json, sourceName);
        return Read(document.Root);
    }

    internal static BdnReport Read(InputElement root)
    {
        InputObject obj = root.AsOpenObject();
        string title = obj.Optional("Title")?.AsString(allowEmpty: true) ?? "";
        var benchmarks = new List<BdnBenchmark>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (InputElement item in obj.Required("Benchmarks", "an array of benchmarks").AsArray(minLength: 1))
        {
            InputObject benchmark = item.AsOpenObject();
            string fullName = benchmark.GetString("FullName");
            if (!names.Add(fullName))
            {
                throw benchmark.Required("FullName").Error("a FullName not used by another benchmark");
            }

            // A benchmark that failed has "Statistics": null; it has no samples rather than bad ones.
            double[] samples = [];
            if (benchmark.Optional("Statistics") is { Kind: not System.Text.Json.JsonValueKind.Null } statistics)
            {
                samples = statistics.AsOpenObject().Required("OriginalValues", "an array of nanoseconds")
                    .AsArray().Select(v => v.AsDouble(min: 0)).ToArray();
            }

            long? allocated = null;
            if (benchmark.Optional("Memory") is { Kind: not System.Text.Json.JsonValueKind.Null } memory)
            {
                allocated = memory.AsOpenObject().Optional("BytesAllocatedPerOperation") is { Kind: not System.Text.Json.JsonValueKind.Null } bytes
                    ? bytes.AsInt64(min: 0)
                    : null;
            }

            benchmarks.Add(new BdnBenchmark(fullName, samples, allocated));
        }

        return new BdnReport(title, benchmarks);
    }
}
