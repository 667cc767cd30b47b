using System.Globalization;
using System.Text;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Comparison;

/// <summary>
/// Text and Markdown views of a <see cref="ComparisonResult"/>, laid out like dotnet/performance's
/// ResultsComparer: a warning when the configurations differ, then one table per verdict (Slower
/// and Faster sorted by how many times worse or better, with their geometric mean), then the rest.
/// </summary>
public static class ComparisonRenderer
{
    private static readonly string[] s_factorHeader = ["name", "metric", "factor", "baseline", "current", "unit", "note"];
    private static readonly string[] s_plainHeader = ["name", "metric", "baseline", "current", "ratio", "unit", "note"];

    public static string Text(ComparisonResult result, bool onlyChanged = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        if (Warning(result) is { } warning)
        {
            text.Append(warning).Append("\n\n");
        }

        foreach (Section section in Sections(result, onlyChanged))
        {
            text.Append(section.Title).Append('\n');
            var table = new TextTable(section.Header);
            foreach (string[] row in section.Rows)
            {
                table.AddRow(row);
            }

            text.Append(table.Render()).Append('\n');
        }

        return text.Append(Summary(result, onlyChanged)).Append('\n').ToString();
    }

    public static string Markdown(ComparisonResult result, bool onlyChanged = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        var md = new StringBuilder("# PerfSim comparison: ").Append(result.Kind).Append("\n\n");
        if (Warning(result) is { } warning)
        {
            md.Append("> **").Append(Rendering.Markdown.Escape(warning)).Append("**\n\n");
        }

        foreach (Section section in Sections(result, onlyChanged))
        {
            md.Append("## ").Append(section.Title).Append("\n\n");
            Rendering.Markdown.Table(md, section.Header, section.Rows);
        }

        return md.Append("**").Append(Summary(result, onlyChanged)).Append("**\n").ToString();
    }

    public static string Summary(ComparisonResult result, bool onlyChanged = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        string outcome = (result.HasRegression, result.HasMissing) switch
        {
            (true, true) => "REGRESSION, MISSING ROWS",
            (true, false) => "REGRESSION",
            (false, true) => "MISSING ROWS (not compared, so not a pass)",
            _ => "no regression",
        };
        string hidden = onlyChanged && result.Count(Verdict.Same) > 0 ? " (same rows not shown)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Rows.Count} rows: {result.Count(Verdict.Slower)} slower, {result.Count(Verdict.Changed)} changed, {result.Count(Verdict.Faster)} faster, {result.Count(Verdict.Same)} same{hidden}, {result.Count(Verdict.Inconclusive)} inconclusive, {result.Count(Verdict.Missing)} missing; {outcome}");
    }

    /// <summary>One line naming the configuration keys that differ, or null when they match.</summary>
    public static string? Warning(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyList<ConfigDifference> differences = result.ConfigDifferences;
        if (differences.Count == 0)
        {
            return null;
        }

        static string Side(string? value) => value ?? "(absent)";
        string keys = string.Join("; ", differences.Select(d =>
            d.Runs > 1 ? string.Create(CultureInfo.InvariantCulture, $"{d.Key} ({Side(d.Baseline)} -> {Side(d.Current)}, in {d.Runs} runs)")
                       : $"{d.Key} ({Side(d.Baseline)} -> {Side(d.Current)})"));
        return string.Create(CultureInfo.InvariantCulture,
            $"WARNING: the configurations differ in {differences.Count} key{(differences.Count == 1 ? "" : "s")}: {keys}. Differences below may come from the configuration, not from the code.");
    }

    private sealed record Section(string Title, string[] Header, IEnumerable<string[]> Rows);

    private static IEnumerable<Section> Sections(ComparisonResult result, bool onlyChanged)
    {
        ComparisonRow[] Of(Verdict verdict) => result.Rows.Where(r => r.Verdict == verdict).ToArray();

        // Worst first, as ResultsComparer sorts its Slower and Faster tables; a NaN factor (zero baseline) leads.
        foreach ((Verdict verdict, string word) in new[] { (Verdict.Slower, "slower"), (Verdict.Faster, "faster") })
        {
            ComparisonRow[] rows = Of(verdict).OrderByDescending(r => double.IsNaN(r.Factor) ? double.PositiveInfinity : r.Factor).ToArray();
            if (rows.Length > 0)
            {
                double[] finite = rows.Select(r => r.Factor).Where(double.IsFinite).ToArray();
                string geomean = finite.Length > 0 ? $", geomean {Times(Math.Exp(finite.Average(Math.Log)))} {word}" : "";
                yield return new Section(
                    string.Create(CultureInfo.InvariantCulture, $"{verdict}: {rows.Length} row{(rows.Length == 1 ? "" : "s")}{geomean}"),
                    s_factorHeader,
                    rows.Select(r => new[] { r.Name, r.Metric, Times(r.Factor), Number(r.Baseline), Number(r.Current), r.Unit, r.Note }));
            }
        }

        (Verdict Verdict, string Title)[] plain =
        [
            (Verdict.Changed, "Changed (no better direction)"),
            (Verdict.Missing, result.MissingAllowed ? "Missing (allowed)" : "Missing (fails the comparison)"),
            (Verdict.Inconclusive, "Inconclusive"),
            (Verdict.Same, "Same"),
        ];
        foreach ((Verdict verdict, string title) in plain)
        {
            ComparisonRow[] rows = Of(verdict);
            if (rows.Length > 0 && !(onlyChanged && verdict == Verdict.Same))
            {
                yield return new Section(
                    string.Create(CultureInfo.InvariantCulture, $"{title}: {rows.Length} row{(rows.Length == 1 ? "" : "s")}"),
                    s_plainHeader,
                    rows.Select(r => new[] { r.Name, r.Metric, Number(r.Baseline), Number(r.Current), Invariant.Fixed(r.Ratio, 3), r.Unit, r.Note }));
            }
        }
    }

    private static string Times(double factor) => double.IsFinite(factor) ? Invariant.Fixed(factor, 2) + "x" : "n/a";

    /// <summary>Integers as integers, other values with a few decimals; never E-notation.</summary>
    internal static string Number(double value) =>
        double.IsNaN(value) ? "" : value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? Invariant.Integer((long)value)
            : value.ToString(Math.Abs(value) >= 100 ? "0.0" : "0.###", CultureInfo.InvariantCulture);
}
