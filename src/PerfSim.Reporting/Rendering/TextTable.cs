namespace PerfSim.Reporting.Rendering;

/// <summary>A plain-text table with padded columns; numeric-looking cells are right-aligned.</summary>
public sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
    }

    public TextTable AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"Expected {_headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public string Render()
    {
        int[] widths = _headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new System.Text.StringBuilder();
        AppendLine(text, _headers, widths, rightAlign: (_, i) => _rows.Count > 0 && _rows.All(r => LooksNumeric(r[i])));
        text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (string[] row in _rows)
        {
            AppendLine(text, row, widths, rightAlign: (cell, _) => LooksNumeric(cell));
        }

        return text.ToString();
    }

    // Alignment is per cell so a column mixing numbers and a digest keeps its numbers aligned.
    private static void AppendLine(System.Text.StringBuilder text, string[] cells, int[] widths, Func<string, int, bool> rightAlign)
    {
        string line = string.Join("  ", cells.Select((c, i) => rightAlign(c, i) ? c.PadLeft(widths[i]) : c.PadRight(widths[i])));
        text.Append(line.TrimEnd()).Append('\n');
    }

    private static bool LooksNumeric(string cell) =>
        cell == "n/a" || (cell.Length > 0 && (char.IsAsciiDigit(cell[0]) || cell[0] == '-')
            && cell.All(c => char.IsAsciiDigit(c) || c is '.' or '-' or '+' or 'e' or 'E' or 'k' or 'M' or 'G' or 'T' or '%' or 'x'));
}
