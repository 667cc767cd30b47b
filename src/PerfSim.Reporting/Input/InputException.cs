namespace PerfSim.Reporting.Input;

/// <summary>
/// A file PerfSim reads is missing, unreadable or does not match its schema. The message is a
/// single line naming the file, the JSON path, what was found and what is accepted, so a CLI can
/// print it as is and exit with code 2.
/// </summary>
public sealed class InputException : Exception
{
    public InputException()
    {
    }

    public InputException(string message)
        : base(SingleLine(message))
    {
    }

    public InputException(string message, Exception innerException)
        : base(SingleLine(message), innerException)
    {
    }

    /// <summary>Builds the canonical "source: path: found X, expected Y" message.</summary>
    public static InputException At(string source, string path, string found, string expected) =>
        new($"{source}: {path}: found {found}, expected {expected}");

    // A multi-line message would break "one error per line" logs and CI annotations.
    private static string SingleLine(string message) =>
        message.ReplaceLineEndings(" ").Replace('\t', ' ');
}
