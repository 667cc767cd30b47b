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

    /// <summary>The short aligned summary a run prints.</summary>
    public static string Text(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var table = new TextTable("metric", "value", "unit");
        foreach (HeadlineFigure figure in Headline.For(report))
        {
            table.AddRow(figure.Name, figure.Display, figure.Unit);
        }

        var text = new StringBuilder();
        text.Append("PerfSim run: ").Append(report.Scenario).Append('\n').Append(table.Render());
        foreach (string violation in report.Violations ?? [])
        {
            text.Append("VIOLATION: ").Append(violation.ReplaceLineEndings(" ")).Append('\n');
        }

        return text.ToString();
    }
}
