using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Engine.Simulation;
using PerfSim.Tracing.Files;

namespace PerfSim.Benchmarks;

/// <summary>
/// Binary event traces (issue #6): reading a recorded trace through the <c>PipeReader</c>
/// (<see cref="BinaryTraceReader.ScanAsync"/>: decode every record) and replaying it through the
/// simulator (<see cref="ReplayRun.Execute"/>: read, then re-run the workload on a fresh kernel).
/// Each invocation processes the whole trace, so the MB/s column is trace bytes per mean time.
/// </summary>
/// <remarks>The trace is recorded once in <see cref="Setup"/>: a guest boot of 16 MiB (4,096
/// guest faults and 1,024 populated pages, with every zap, flush and split event) on an 8-CPU,
/// 1 GiB x86-64 host; about 13,000 events, 84 KB.</remarks>
[BenchmarkCategory(Categories.Trace)]
[MemoryDiagnoser]
[Config(typeof(Config))]
public class TraceBenchmarks
{
    private string _path = string.Empty;

    /// <summary>Bytes of the recorded trace (what the MB/s column divides).</summary>
    internal static long TraceBytes { get; private set; }

    internal static ScenarioConfig Recorded { get; } = new()
    {
        Scenario = ScenarioNames.GuestBoot,
        Arch = ArchKind.X86_64,
        Cpus = 8,
        Vcpus = 4,
        RamBytes = PageGeometry.GiB,
        GuestMemoryBytes = 16 * PageGeometry.MiB,
        Seed = 1,
    };

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"perfsim-bench-{Environment.ProcessId}.trace");
        using (FileStream file = File.Create(_path))
        {
            var writer = new BinaryTraceWriter(file, new BinaryTraceWriterOptions { RunConfigJson = ScenarioFields.ToJson(Recorded) });
            SimulationRun.Execute(Recorded, sink: writer);
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        TraceBytes = new FileInfo(_path).Length;
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Baseline = true)]
    public long ScanTrace()
    {
        using FileStream file = File.OpenRead(_path);
        return BinaryTraceReader.ScanAsync(file).GetAwaiter().GetResult().Events;
    }

    [Benchmark]
    public string ReplayTrace() => ReplayRun.Execute(_path).Run.Digest;

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new MegabytesPerSecondColumn());
    }

    /// <summary>Trace megabytes (10^6) per second of the benchmark's mean time.</summary>
    private sealed class MegabytesPerSecondColumn : IColumn
    {
        public string Id => nameof(MegabytesPerSecondColumn);

        public string ColumnName => "MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Trace megabytes (10^6 bytes) processed per second";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return meanNs is > 0 && TraceBytes > 0
                ? (TraceBytes / 1e6 / (meanNs.Value / 1e9)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
                : "-";
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
