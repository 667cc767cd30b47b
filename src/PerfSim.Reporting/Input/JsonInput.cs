using System.Text.Json;

namespace PerfSim.Reporting.Input;

/// <summary>
/// Entry point for reading every JSON file PerfSim consumes. It turns I/O and syntax errors into
/// <see cref="InputException"/> and hands out <see cref="InputElement"/>s whose typed getters
/// know their file and JSON path, so a bad field is reported as
/// <c>report.json: $.counters.faults: found "x" (a string), expected a non-negative integer</c>.
/// </summary>
public static class JsonInput
{
    // Duplicate keys are rejected: with the default (last one wins) a hand-edited baseline could
    // silently carry two different values for the same counter.
    private static readonly JsonDocumentOptions s_options = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
        MaxDepth = 64,
    };

    /// <summary>Reads (<see cref="InputFiles"/>: <c>-</c> is standard input, sizes limited) and
    /// parses a file; <paramref name="path"/> is the name used in messages.</summary>
    public static InputDocument LoadFile(string path, InputKind kind = InputKind.Report)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(InputFiles.ReadBytes(path, kind), InputFiles.NameOf(path));
    }

    /// <summary>Refuses what the strict reader refuses (duplicate keys first of all) in a JSON file
    /// that another parser then reads: scenario files and cost profiles.</summary>
    public static void Check(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json);
        try
        {
            // Syntax errors are the other parser's to report, in its words.
            JsonDocument.Parse(utf8, s_options with { AllowDuplicateProperties = true }).Dispose();
        }
        catch (JsonException)
        {
            return;
        }

        Parse(utf8, sourceName).Dispose();
    }

    /// <summary>Parses JSON text; <paramref name="sourceName"/> names it in messages.</summary>
    public static InputDocument Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), sourceName);
    }

    private static InputDocument Parse(byte[] utf8, string sourceName)
    {
        // The reader checks string values but not property names: an invalid byte in a key would
        // surface later as an InvalidOperationException from whoever reads the key.
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            throw new InputException($"{sourceName}: not UTF-8 text (JSON is UTF-8)");
        }

        try
        {
            return new InputDocument(sourceName, JsonDocument.Parse(utf8, s_options));
        }
        catch (JsonException ex)
        {
            // JsonException positions are zero-based; editors count from one.
            long line = (ex.LineNumber ?? 0) + 1;
            long column = (ex.BytePositionInLine ?? 0) + 1;
            if (ex.Message.Contains("uplicate", StringComparison.Ordinal))
            {
                throw new InputException($"{sourceName}: a key is given twice at line {line}, byte {column} ({Reason(ex.Message)}); give each key once", ex);
            }

            throw new InputException(
                $"{sourceName}: invalid or truncated JSON at line {line}, byte {column}: {Reason(ex.Message)}", ex);
        }
    }

    // JsonException messages end with " Path: $ | LineNumber: 0 | BytePositionInLine: 3."; the
    // position is already reported one-based, so keep only the reason.
    private static string Reason(string message)
    {
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        return (cut < 0 ? message : message[..cut]).TrimEnd('.', ' ');
    }
}

/// <summary>A parsed input file. Dispose it when done; elements must not outlive it.</summary>
public sealed class InputDocument : IDisposable
{
    private readonly JsonDocument _document;

    internal InputDocument(string source, JsonDocument document)
    {
        Source = source;
        _document = document;
        Root = new InputElement(source, "$", document.RootElement);
    }

    /// <summary>The file name (or label) used in messages.</summary>
    public string Source { get; }

    /// <summary>The root value, at JSON path <c>$</c>.</summary>
    public InputElement Root { get; }

    public void Dispose() => _document.Dispose();
}
