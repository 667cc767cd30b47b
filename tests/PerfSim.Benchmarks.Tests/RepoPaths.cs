namespace PerfSim.Benchmarks.Tests;

/// <summary>Committed files the gate reads, found from the test binary's folder upwards.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string SimulatedBaselines => Path.Combine(Root, "perf-reports", "baselines", "simulated");

    public static string Allocations => Path.Combine(Root, "perf-reports", "allocations.json");

    public static string FloorRatio => Path.Combine(Root, "perf-reports", "engine", "floor-ratio.json");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PerfSim.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no PerfSim.sln above {AppContext.BaseDirectory}");
    }
}
