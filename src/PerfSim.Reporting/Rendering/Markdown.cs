using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerfSim.Reporting.Rendering;

/// <summary>A chart written beside report.md, linked from it.</summary>
public sealed record ChartLink(string Title, string FileName);

/// <summary>Renders <c>report.md</c>: what ran, headline figures, configuration, counters, latency, direct map, passes, charts.</summary>
public static class Markdown
{
    public static string Render(RunReport report, IReadOnlyList<ChartLink>? charts = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.Append("# PerfSim run: ").Append(Escape(report.Scenario)).Append("\n\n");
        md.Append(Escape(RunHeader.Line(report))).Append(".\n\n");
        md.Append("Digest: `").Append(report.Digest).Append("`. Simulated figures are deterministic for this configuration; wall figures measure the host.\n\n");

        md.Append("## Headline\n\n");
        Table(md, ["metric", "value", "unit"], Headline.For(report).Select(f => new[] { f.Name, f.Display, f.Unit }));

        md.Append("## Configuration\n\n");
        Table(md, ["key", "value"], FlattenConfig(report.Config).Select(kv => new[] { kv.Key, kv.Value }));

        md.Append("## Counters\n\n");
        Table(md, ["counter", "value"], report.Counters.Select(c => new[] { c.Key, Invariant.Integer(c.Value) }));

        md.Append("## Latency (simulated ns)\n\n");
        Table(
            md,
            ["operation", "count", "p50", "p90", "p99", "p99.9", "max", "mean"],
            report.LatencyNs.Select(l => l.Value.Count == 0
                ? [l.Key, "0", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]
                : new[]
                {
                    l.Key, Invariant.Integer(l.Value.Count), Invariant.Integer(l.Value.P50), Invariant.Integer(l.Value.P90),
                    Invariant.Integer(l.Value.P99), Invariant.Integer(l.Value.P999), Invariant.Integer(l.Value.Max),
                    Invariant.Fixed(l.Value.Mean, 1),
                }));

        md.Append("## Direct map (kB)\n\n");
        Table(
            md,
            ["", "DirectMap4k", "DirectMap2M", "DirectMap1G"],
            [DirectMapRow("before", report.DirectMap.Before), DirectMapRow("after", report.DirectMap.After)]);

        if (report.Exposure is { } exposure)
        {
            md.Append("## Stale-translation exposure\n\n");
            Table(
                md,
                ["zapped pages", "stale CPU entries", "mean window (ns)", "max window (ns)"],
                [[Invariant.Integer(exposure.ZappedPages), Invariant.Integer(exposure.StaleCpuEntries),
                  Invariant.Fixed(exposure.MeanWindowNs, 1), Invariant.Fixed(exposure.MaxWindowNs, 1)]]);
        }

        if (report.Passes is { Count: > 0 } passes)
        {
            md.Append("## Passes\n\n");
            (string[] header, IEnumerable<string[]> rows) = PassTable(passes);
            Table(md, header, rows);
        }

        if (report.Violations is { Count: > 0 } violations)
        {
            md.Append("## Violations\n\n");
            foreach (string violation in violations)
            {
                md.Append("- ").Append(Escape(violation)).Append('\n');
            }

            md.Append('\n');
        }

        if (charts is { Count: > 0 })
        {
            md.Append("## Charts\n\n");
            foreach (ChartLink chart in charts)
            {
                md.Append("![").Append(Escape(chart.Title)).Append("](").Append(Uri.EscapeDataString(chart.FileName)).Append(")\n\n");
            }
        }

        return md.ToString();
    }

    /// <summary>Appends a GitHub-flavoured table; cells are escaped.</summary>
    public static void Table(StringBuilder md, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        md.Append("| ").AppendJoin(" | ", header.Select(Escape)).Append(" |\n");
        md.Append('|').AppendJoin('|', header.Select(_ => " --- ")).Append("|\n");
        foreach (IReadOnlyList<string> row in rows)
        {
            md.Append("| ").AppendJoin(" | ", row.Select(Escape)).Append(" |\n");
        }

        md.Append('\n');
    }

    /// <summary>Dotted keys with scalar values, arrays as compact JSON: one table row per setting.</summary>
    public static IEnumerable<KeyValuePair<string, string>> FlattenConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach ((string key, JsonNode? value) in config)
        {
            if (value is JsonObject child)
            {
                foreach ((string childKey, string text) in FlattenConfig(child))
                {
                    yield return new($"{key}.{childKey}", text);
                }
            }
            else
            {
                yield return new(key, value switch
                {
                    null => "null",
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                    _ => value.ToJsonString(),
                });
            }
        }
    }

    /// <summary>
    /// One row per pass, named by its label (the population path of a populate pass): the DirectMap
    /// change in kB, then every counter that is non-zero in some pass.
    /// </summary>
    internal static (string[] Header, IEnumerable<string[]> Rows) PassTable(IReadOnlyList<PassReport> passes)
    {
        string[] counters = passes.SelectMany(p => p.Counters).Where(c => c.Value != 0).Select(c => c.Key).Distinct(StringComparer.Ordinal).ToArray();
        string[] header = ["pass", "label", "DirectMap4k Δ kB", "DirectMap2M Δ kB", "DirectMap1G Δ kB", .. counters];
        return (header, passes.Select(p => (string[])
        [
            Invariant.Integer(p.Pass), p.Label.Length > 0 ? p.Label : "n/a",
            Invariant.Integer(p.DirectMapDelta.DirectMap4k), Invariant.Integer(p.DirectMapDelta.DirectMap2M), Invariant.Integer(p.DirectMapDelta.DirectMap1G),
            .. counters.Select(c => Invariant.Integer(p.Counters.GetValueOrDefault(c))),
        ]));
    }

    internal static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string[] DirectMapRow(string label, DirectMapSizes sizes) =>
        [label, Invariant.Integer(sizes.DirectMap4k), Invariant.Integer(sizes.DirectMap2M), Invariant.Integer(sizes.DirectMap1G)];
}
