using System.Globalization;
using System.Text;
using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Comparison;

/// <summary>Text and Markdown tables of a <see cref="ComparisonResult"/>, regressions first.</summary>
public static class ComparisonRenderer
{
    private static readonly string[] s_header = ["name", "metric", "baseline", "current", "ratio", "verdict", "note"];

    public static string Text(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var table = new TextTable(s_header);
        foreach (string[] row in Rows(result))
        {
            table.AddRow(row);
        }

        return table.Render() + Summary(result) + "\n";
    }

    public static string Markdown(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var md = new StringBuilder("# PerfSim comparison: ").Append(result.Kind).Append("\n\n");
        Rendering.Markdown.Table(md, s_header, Rows(result));
        return md.Append("**").Append(Summary(result)).Append("**\n").ToString();
    }

    public static string Summary(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Rows.Count} rows: {result.Count(Verdict.Slower)} slower, {result.Count(Verdict.Changed)} changed, {result.Count(Verdict.Faster)} faster, {result.Count(Verdict.Same)} same, {result.Count(Verdict.Inconclusive)} inconclusive, {result.Count(Verdict.Missing)} missing; {(result.HasRegression ? "REGRESSION" : "no regression")}");
    }

    // Regressions first so a long table still shows what failed the gate at the top.
    private static IEnumerable<string[]> Rows(ComparisonResult result) =>
        result.Rows
            .OrderBy(r => r.Verdict switch { Verdict.Slower or Verdict.Changed => 0, Verdict.Missing => 1, Verdict.Inconclusive => 2, Verdict.Faster => 3, _ => 4 })
            .Select(r => new[] { r.Name, r.Metric, Number(r.Baseline), Number(r.Current), Invariant.Fixed(r.Ratio, 3), r.Verdict.ToString(), r.Note });

    private static string Number(double value) =>
        double.IsNaN(value) ? "" : value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? Invariant.Integer((long)value)
            : value.ToString("G6", CultureInfo.InvariantCulture);
}
