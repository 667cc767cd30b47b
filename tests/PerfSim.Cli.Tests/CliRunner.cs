namespace PerfSim.Cli.Tests;

/// <summary>Runs the CLI in-process with captured output.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) RunWithStdin(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(args, new StringReader(stdin), stdinIsTerminal: false, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static (int Code, string Out, string Err) Run(params string[] args) => RunWithStdin(string.Empty, args);

    /// <summary>A temporary file that deletes itself.</summary>
    public sealed class TempFile : IDisposable
    {
        public TempFile(string contents)
        {
            Path = System.IO.Path.GetTempFileName();
            File.WriteAllText(Path, contents);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
