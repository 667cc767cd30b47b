using System.Text;

namespace PerfSim.Reporting.Rendering;

/// <summary>RFC 4180 CSV: comma separated, "\n" rows, fields quoted when they hold a comma, quote or newline.</summary>
public static class Csv
{
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        AppendRow(text, header);
        foreach (IReadOnlyList<string> row in rows)
        {
            if (row.Count != header.Count)
            {
                throw new ArgumentException($"A CSV row has {row.Count} fields, the header {header.Count}.", nameof(rows));
            }

            AppendRow(text, row);
        }

        return text.ToString();
    }

    /// <summary>Header and one row: what ran (<see cref="RunHeader"/>), then the headline figures.</summary>
    public static string Render(RunReport report)
    {
        IReadOnlyList<HeaderField> what = RunHeader.For(report);
        IReadOnlyList<HeadlineFigure> figures = Headline.For(report);
        string[] header = ["scenario", .. what.Select(f => f.Name), .. figures.Select(f => f.Name)];
        string[] row = [report.Scenario, .. what.Select(f => f.Raw), .. figures.Select(f => f.Raw)];
        return Render(header, [row]);
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> fields)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            string field = fields[i];
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                text.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(field);
            }
        }

        text.Append('\n');
    }
}
