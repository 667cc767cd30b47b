using System.Globalization;
using System.Text;
using PerfSim.Core.Events;

namespace PerfSim.Tracing.Files;

/// <summary>
/// The text trace format for events converted from real kernel traces: one event per line,
/// <c>TIME_NS CPU KIND PFN [EXTRA]</c>, whitespace separated, <c>#</c> starts a comment
/// (docs/trace-format.md). Numbers are decimal or <c>0x</c> hexadecimal; KIND is a name from
/// <see cref="KindNames"/>.
/// </summary>
public static class TextTrace
{
    private static readonly (SimEventKind Kind, string Name)[] s_names =
    [
        (SimEventKind.Fault, "fault"),
        (SimEventKind.PopulatePage, "populate"),
        (SimEventKind.DirectMapZap, "zap"),
        (SimEventKind.DirectMapRestore, "restore"),
        (SimEventKind.Split2M, "split_2m"),
        (SimEventKind.Split1G, "split_1g"),
        (SimEventKind.FlushKernelRange, "flush_range"),
        (SimEventKind.FlushAll, "flush_all"),
        (SimEventKind.FlushLocal, "flush_local"),
        (SimEventKind.MermapGet, "mermap_get"),
        (SimEventKind.MermapPut, "mermap_put"),
        (SimEventKind.Violation, "violation"),
        (SimEventKind.PunchHole, "punch_hole"),
        (SimEventKind.PageblockFlip, "pageblock_flip"),
        (SimEventKind.Phase, "phase"),
    ];

    /// <summary>The kind names, in kind order.</summary>
    public static IReadOnlyList<string> KindNames { get; } = s_names.Select(n => n.Name).ToArray();

    /// <summary>The text name of <paramref name="kind"/>.</summary>
    public static string KindName(SimEventKind kind)
    {
        foreach ((SimEventKind k, string name) in s_names)
        {
            if (k == kind)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind has no text name");
    }

    /// <summary>One line for <paramref name="e"/>, PFN in hex as the kernel prints it.</summary>
    public static string Format(in SimEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.TimeNs} {e.Cpu} {KindName(e.Kind)} 0x{e.Pfn:x} {e.Extra}");

    /// <summary>Writes a comment header and one line per event.</summary>
    public static void Write(TextWriter writer, IEnumerable<SimEvent> events)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(events);
        writer.WriteLine("# PerfSim text trace: TIME_NS CPU KIND PFN [EXTRA]");
        foreach (SimEvent e in events)
        {
            writer.WriteLine(Format(in e));
        }
    }

    /// <summary>Longest line read (docs/limits.md): a file without line ends must not be buffered whole.</summary>
    public const int MaxLineChars = 4096;

    /// <summary>Parses events lazily; a bad line throws <see cref="TraceFormatException"/> with its line number.</summary>
    public static IEnumerable<SimEvent> Read(TextReader reader) => ReadNumbered(reader).Select(e => e.Event);

    /// <summary>As <see cref="Read"/>, each event with its 1-based line.</summary>
    public static IEnumerable<(SimEvent Event, int Line)> ReadNumbered(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int lineNumber = 0;
        var line = new StringBuilder();
        while (ReadLine(reader, line, lineNumber + 1))
        {
            lineNumber++;
            if (TryParseLine(line.ToString(), lineNumber, out SimEvent e))
            {
                yield return (e, lineNumber);
            }
        }
    }

    /// <summary>Reads up to the next line end into <paramref name="line"/>; false at the end of the input.</summary>
    private static bool ReadLine(TextReader reader, StringBuilder line, int lineNumber)
    {
        line.Clear();
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (c == '\n')
            {
                return true;
            }

            if (line.Length == MaxLineChars)
            {
                throw TraceFormatException.AtLine(lineNumber, string.Create(CultureInfo.InvariantCulture, $"longer than {MaxLineChars} characters (docs/limits.md)"));
            }

            line.Append((char)c);
        }

        return line.Length > 0;
    }

    /// <summary>Parses one line; false for blank and comment-only lines.</summary>
    public static bool TryParseLine(string line, int lineNumber, out SimEvent e)
    {
        ArgumentNullException.ThrowIfNull(line);
        e = default;
        ReadOnlySpan<char> text = line.AsSpan();
        int hash = text.IndexOf('#');
        if (hash >= 0)
        {
            text = text[..hash];
        }

        Span<Range> fields = stackalloc Range[6];
        int count = text.SplitAny(fields, " \t", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (count == 0)
        {
            return false;
        }

        if (count is < 4 or > 5)
        {
            throw TraceFormatException.AtLine(lineNumber, $"expected TIME_NS CPU KIND PFN [EXTRA], found {(count > 5 ? "more than 5" : count.ToString(CultureInfo.InvariantCulture))} fields");
        }

        long time = ParseNumber(text[fields[0]], "TIME_NS", lineNumber);
        long cpu = ParseNumber(text[fields[1]], "CPU", lineNumber);
        if (cpu is < 0 or > int.MaxValue)
        {
            throw TraceFormatException.AtLine(lineNumber, $"CPU {cpu} out of range");
        }

        ReadOnlySpan<char> kindText = text[fields[2]];
        SimEventKind? kind = null;
        foreach ((SimEventKind k, string name) in s_names)
        {
            if (kindText.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                break;
            }
        }

        if (kind is null)
        {
            throw TraceFormatException.AtLine(lineNumber, $"unknown kind '{Echo.Of(kindText)}' (expected one of {string.Join(", ", KindNames)})");
        }

        long pfn = ParseNumber(text[fields[3]], "PFN", lineNumber);
        long extra = count == 5 ? ParseNumber(text[fields[4]], "EXTRA", lineNumber) : 0;
        e = new SimEvent(time, pfn, extra, (int)cpu, kind.Value);
        return true;
    }

    private static long ParseNumber(ReadOnlySpan<char> text, string field, int lineNumber)
    {
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long value)
            : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw TraceFormatException.AtLine(lineNumber, $"{field} '{Echo.Of(text)}' is not a number");
    }
}
