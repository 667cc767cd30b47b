using PerfSim.Engine.Simulation;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim scenarios</c>: the built-in scenarios and the fields a scenario file may set.</summary>
internal static class ScenariosCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        OptionSet.Parse("scenarios", args, [], []);
        foreach (string name in ScenarioNames.All)
        {
            stdout.WriteLine($"{name,-18}{ScenarioNames.Describe(name)}");
        }

        stdout.WriteLine();
        stdout.WriteLine("A scenario file is a JSON object of these fields (all optional): " + string.Join(", ", ScenarioFields.Keys.Select(k => k.Replace('-', '_'))) + ", cost_profile.");
        return ExitCodes.Ok;
    }
}
