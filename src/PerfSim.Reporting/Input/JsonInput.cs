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

    /// <summary>Reads and parses a file; <paramref name="path"/> is the name used in messages.</summary>
    public static InputDocument LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException($"{path}: file not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read file: {ex.Message}", ex);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses JSON text; <paramref name="sourceName"/> names it in messages.</summary>
    public static InputDocument Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), sourceName);
    }

    private static InputDocument Parse(byte[] utf8, string sourceName)
    {
        try
        {
            return new InputDocument(sourceName, JsonDocument.Parse(utf8, s_options));
        }
        catch (JsonException ex)
        {
            // JsonException positions are zero-based; editors count from one.
            long line = (ex.LineNumber ?? 0) + 1;
            long column = (ex.BytePositionInLine ?? 0) + 1;
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
