namespace PerfSim.Tracing.Files;

/// <summary>
/// A trace file is malformed. The message is one line that names the byte offset (binary traces)
/// or the line number (text traces), ready to show a user as is.
/// </summary>
public sealed class TraceFormatException : Exception
{
    public TraceFormatException()
    {
    }

    public TraceFormatException(string message)
        : base(message)
    {
    }

    public TraceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private TraceFormatException(string message, long? byteOffset, int? line)
        : base(message)
    {
        ByteOffset = byteOffset;
        Line = line;
    }

    /// <summary>Where in a binary trace the problem starts.</summary>
    public long? ByteOffset { get; }

    /// <summary>The 1-based line of a text trace.</summary>
    public int? Line { get; }

    internal static TraceFormatException AtByte(long offset, string problem) => new($"{problem} at byte {offset}", offset, null);

    internal static TraceFormatException AtLine(int line, string problem) => new($"line {line}: {problem}", null, line);
}
