using BenchmarkDotNet.Attributes;
using PerfSim.Core;

namespace PerfSim.Benchmarks;

/// <summary>
/// The floor loop (<see cref="FloorLoop"/>) at issue 19's configuration: a 16 GiB guest (4,194,304
/// faults per invocation) on a 32 GiB host, one thread. The time is wall time per fault, so its
/// inverse is the floor's faults per second, to set beside the engine's
/// <c>wall.faults_per_wall_second</c> for the same guest (the ratio the speed gate checks, README,
/// Benchmarks). <see cref="Scattered"/> is the engine's page order; <see cref="PageOrder"/> the
/// prefetcher's best case.
/// </summary>
[BenchmarkCategory(Categories.Floor)]
[MemoryDiagnoser]
public class FloorLoopBenchmarks
{
    public const long GuestBytes = 16 * PageGeometry.GiB;
    public const long HostBytes = 32 * PageGeometry.GiB;
    public const int Faults = (int)(GuestBytes / PageGeometry.PageSize);

    private FloorLoop _loop = null!;

    [GlobalSetup(Target = nameof(Scattered))]
    public void SetupScattered() => _loop = new FloorLoop(GuestBytes, HostBytes, FloorLoop.Order.Scattered);

    [GlobalSetup(Target = nameof(PageOrder))]
    public void SetupPageOrder() => _loop = new FloorLoop(GuestBytes, HostBytes, FloorLoop.Order.PageOrder);

    [Benchmark(Baseline = true, OperationsPerInvoke = Faults)]
    public long Scattered() => _loop.Run();

    [Benchmark(OperationsPerInvoke = Faults)]
    public long PageOrder() => _loop.Run();
}
