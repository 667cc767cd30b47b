using PerfSim.Engine.Simulation;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim scenarios</c>: the built-in scenarios, the options behind their letters,
/// the options each ignores, and the fields a scenario file may set.</summary>
internal static class ScenariosCommand
{
    private const int Indent = 18;

    public static int Run(OptionSet options, TextWriter stdout)
    {
        _ = options;
        foreach (string name in ScenarioNames.All)
        {
            stdout.WriteLine($"{name,-Indent}{ScenarioNames.Describe(name)}");
            string letters = string.Join(", ", ScenarioNames.Letters(name).Select(l => $"{l.Letter} = --{ScenarioFields.Find(l.Field)!.OptionName}"));
            stdout.WriteLine($"{"",-Indent}{letters}");
            string[] ignored = [.. ScenarioFields.All.Where(f => !f.AppliesTo(name)).Select(f => "--" + f.OptionName)];
            if (ignored.Length > 0)
            {
                stdout.WriteLine($"{"",-Indent}ignores {string.Join(", ", ignored)}");
            }

            foreach (ScenarioField field in ScenarioFields.All.Where(f => !f.AppliesTo(name) && f.UnusedNote is not null))
            {
                stdout.WriteLine($"{"",-Indent}--{field.OptionName} changes nothing here ({field.UnusedNote})");
            }

            stdout.WriteLine();
        }

        stdout.WriteLine($"Defaults and ranges: perfsim run --help. A scenario file (--scenario FILE) is a JSON object of these fields, all optional: {string.Join(", ", ScenarioFields.Keys)}, {ScenarioFields.CostProfileKey}. A report's config, without its \"host\", is one.");
        return ExitCodes.Ok;
    }
}
