using BenchmarkDotNet.Running;

namespace PerfSim.Benchmarks;

internal static class Program
{
    // BenchmarkSwitcher exits 0 even when validation refuses to run or the filter matches
    // nothing (ecosystem.md §3): turn those into a non-zero exit so CI notices.
    private static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
        bool failed = summaries.Count == 0
            || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
