using System.Globalization;
using PerfSim.Reporting;

namespace PerfSim.Cli.Output;

/// <summary>The one line, on standard error beside the progress, that says what a command wrote:
/// <c>perfsim: wrote perfsim-out/report.json, report.md, report.csv and 4 charts (replacing the previous run)</c>.</summary>
internal static class Written
{
    /// <summary>Writes a report bundle into <paramref name="directory"/> with <paramref name="write"/>
    /// (which returns the file names) and says so.</summary>
    public static void Bundle(TextWriter stderr, string directory, Func<string, IReadOnlyList<string>> write)
    {
        bool replacing = File.Exists(Path.Combine(directory, ReportBundle.ReportJsonFile)) || File.Exists(Path.Combine(directory, ReportBundle.SweepJsonFile));
        IReadOnlyList<string> names = write(directory);
        stderr.WriteLine(Line(directory, names, replacing));
    }

    public static string Line(string directory, IReadOnlyList<string> names, bool replacing)
    {
        string[] files = [.. names.Where(n => !n.EndsWith(".svg", StringComparison.Ordinal))];
        int charts = names.Count - files.Length;
        var parts = files.Select((n, i) => i == 0 ? Path.Combine(directory, n) : n).ToList();
        if (charts > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{charts} chart{(charts == 1 ? "" : "s")}"));
        }

        string list = parts.Count > 1 ? string.Join(", ", parts[..^1]) + " and " + parts[^1] : string.Concat(parts);
        return $"perfsim: wrote {list}{(replacing ? " (replacing the previous run)" : string.Empty)}";
    }
}
