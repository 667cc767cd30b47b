namespace PerfSim.Engine.Inputs;

/// <summary>
/// Bad user input: a malformed option value, script line or input file. The message is one line
/// that names where (option, file and line, field) and what is accepted; the CLI prints it and
/// exits with code 2.
/// </summary>
public sealed class InputException : Exception
{
    public InputException()
    {
    }

    public InputException(string message)
        : base(message)
    {
    }

    public InputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
