using System.Text;
using PerfSim.Reporting.Input;

namespace PerfSim.Cli.Commands;

/// <summary>The files that options name, read through <see cref="InputFiles"/> (limits, <c>-</c>
/// for standard input, directories and FIFOs refused) and, for JSON, checked by the strict JSON
/// reader first, so a duplicate key is refused as a repeated option is.</summary>
internal static class InputFile
{
    /// <summary>The contents of the file that option <c>--<paramref name="option"/></c> names.</summary>
    public static string Read(string path, string option)
    {
        InputKind kind = option switch
        {
            "scenario" => InputKind.Scenario,
            "cost-profile" => InputKind.CostProfile,
            "e820" => InputKind.E820,
            "meminfo" => InputKind.Meminfo,
            "script" => InputKind.Script,
            "matrix" => InputKind.Matrix,
            _ => throw new ArgumentOutOfRangeException(nameof(option), option, "not a file option"),
        };
        string text;
        try
        {
            text = InputFiles.ReadText(path, kind);
        }
        catch (InputException e)
        {
            string name = InputFiles.NameOf(path) + ": ";
            string reason = e.Message.StartsWith(name, StringComparison.Ordinal) ? e.Message[name.Length..] : e.Message;
            throw new InputException($"--{option}: cannot read '{path}': {reason}", e);
        }

        if (kind is InputKind.Scenario or InputKind.CostProfile)
        {
            JsonInput.Check(text, $"--{option} {InputFiles.NameOf(path)}");
        }

        return text;
    }

    /// <summary>Makes <c>-</c> read <paramref name="stdin"/>: the process's standard input as bytes
    /// (binary traces), or a test's reader as UTF-8.</summary>
    public static IDisposable UseStandardInput(TextReader stdin) =>
        InputFiles.UseStandardInput(() => ReferenceEquals(stdin, Console.In)
            ? Console.OpenStandardInput()
            : new MemoryStream(Encoding.UTF8.GetBytes(stdin.ReadToEnd())));
}
