using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace PerfSim.Benchmarks.Infrastructure;

/// <summary>The two configurations of the suite: quick (CI) and full (real measurement).</summary>
public static class SuiteConfig
{
    /// <summary>
    /// CI's job. In process, because building the generated child project costs ~15 s per run on
    /// this machine (ecosystem.md §3). 100 ms iterations instead of BDN's 500 ms, and 9 of them:
    /// enough samples for a Mann–Whitney comparison (the comparer needs at least 3 per side; with
    /// 3, as in ShortRun, no difference can ever be significant at 5%), for a fraction of ShortRun's time.
    /// </summary>
    public static Job QuickJob { get; } = Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(9)
        .WithIterationTime(TimeInterval.FromMilliseconds(100))
        .WithId("Quick");

    /// <summary>BDN's default job: out of process (a fresh runtime per benchmark), pilot and
    /// warmup stages and as many iterations as its stop rule asks for.</summary>
    public static Job FullJob { get; } = Job.Default.WithId("Full");

    /// <summary>The suite's configuration: the job, full JSON per class (what the gate and the comparer
    /// read, under a stable name: <c>PerfSim.Benchmarks.CLASS-report-full.json</c>),
    /// GitHub markdown for humans, allocation figures and the suite's rules.</summary>
    public static IConfig Create(bool quick) => ManualConfig.CreateEmpty()
        .AddColumnProvider(DefaultConfig.Instance.GetColumnProviders().ToArray())
        .AddLogger(DefaultConfig.Instance.GetLoggers().ToArray())
        .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
        .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
        .AddValidator(SuiteRulesValidator.Instance)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddExporter(JsonExporter.Full, MarkdownExporter.GitHub)
        .AddJob(quick ? QuickJob : FullJob)
        .WithOptions(ConfigOptions.DisableLogFile);
}
