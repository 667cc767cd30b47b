using System.Text;

namespace PerfSim.Reporting.Rendering;

/// <summary>What a command prints on standard output.</summary>
public enum ConsoleFormat
{
    Text,
    Json,
    Markdown,
    Csv,
}

/// <summary>The one entry point that renders a report in a <see cref="ConsoleFormat"/>.</summary>
public static class ReportRenderer
{
    public static string Render(RunReport report, ConsoleFormat format) => format switch
    {
        ConsoleFormat.Text => Text(report),
        ConsoleFormat.Json => ReportJson.Serialize(report),
        ConsoleFormat.Markdown => Markdown.Render(report),
        ConsoleFormat.Csv => Csv.Render(report),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown console format."),
    };

    // Beyond this many passes (vm-churn cycles) the summary points to report.md instead.
    private const int MaxPassesInSummary = 16;

    /// <summary>The short aligned summary a run prints: what ran, the headline figures, the passes.</summary>
    public static string Text(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var table = new TextTable("metric", "value", "unit");
        foreach (HeadlineFigure figure in Headline.For(report))
        {
            table.AddRow(figure.Name, figure.Display, figure.Unit);
        }

        var text = new StringBuilder();
        text.Append("PerfSim run: ").Append(RunHeader.Line(report)).Append('\n').Append(table.Render());
        if (report.Passes is { Count: > 0 and <= MaxPassesInSummary } passes)
        {
            (string[] header, IEnumerable<string[]> rows) = Markdown.PassTable(passes);
            var passTable = new TextTable(header);
            foreach (string[] row in rows)
            {
                passTable.AddRow(row);
            }

            text.Append('\n').Append(passTable.Render());
        }
        else if (report.Passes is { Count: > MaxPassesInSummary } many)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{many.Count} passes: per-pass figures in report.md and report.json\n");
        }

        foreach (string violation in report.Violations ?? [])
        {
            text.Append("VIOLATION: ").Append(violation.ReplaceLineEndings(" ")).Append('\n');
        }

        return text.ToString();
    }
}
