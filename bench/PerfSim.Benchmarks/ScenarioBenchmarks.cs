using BenchmarkDotNet.Attributes;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Simulation;

namespace PerfSim.Benchmarks;

/// <summary>
/// Whole scenarios through <see cref="SimulationRun.Execute"/> (host build, every phase, digest),
/// as <c>perfsim run</c> runs them. <c>OperationsPerInvoke</c> = the run's simulated faults, so the
/// reported time is wall time per simulated fault (its inverse is the engine's simulated faults
/// per wall second, issue #7) and Allocated is managed bytes per fault. The fault counts are
/// checked against the engine's own count by a test (<see cref="Cases"/>), so they cannot drift silently.
/// </summary>
/// <remarks>Guest-boot: x86-64, 64 host CPUs, a VM of 16 vCPUs with 256 MiB of guest memory
/// (65,536 guest faults after the VMM populated a quarter by memcpy: 16,384 user faults), on a
/// 16 GiB host; a quarter of the default 1 GiB guest so that CI's quick job can afford it.
/// Strategy <c>none</c> is the baseline: the ratio column is what NO_DIRECT_MAP costs the engine.</remarks>
[BenchmarkCategory(Categories.Scenario)]
[MemoryDiagnoser]
public class ScenarioBenchmarks
{
    public const int GuestBootFaults = 65_536 + 16_384;
    public const int SecretmemFaults = 16_384;

    private static readonly ScenarioConfig s_guestBoot = new()
    {
        Scenario = ScenarioNames.GuestBoot,
        Arch = ArchKind.X86_64,
        Cpus = 64,
        Vcpus = 16,
        GuestMemoryBytes = 256 * PageGeometry.MiB,
        Seed = 1,
    };

    private static readonly ScenarioConfig s_secretmem = new()
    {
        Scenario = ScenarioNames.SecretmemTouch,
        Arch = ArchKind.X86_64,
        Cpus = 64,
        Vcpus = 16,
        Pages = SecretmemFaults,
        Seed = 1,
    };

    /// <summary>Each benchmark's configuration and the faults its OperationsPerInvoke assumes
    /// (a test runs each and compares with the engine's count).</summary>
    internal static IReadOnlyList<(string Method, ScenarioConfig Config, long Faults)> Cases { get; } =
    [
        (nameof(GuestBootNone), GuestBoot(Strategy.None), GuestBootFaults),
        (nameof(GuestBootPerFolio), GuestBoot(Strategy.PerFolio), GuestBootFaults),
        (nameof(GuestBootFilemap), GuestBoot(Strategy.Filemap), GuestBootFaults),
        (nameof(SecretmemTouch), s_secretmem, SecretmemFaults),
    ];

    [Benchmark(Baseline = true, OperationsPerInvoke = GuestBootFaults)]
    public string GuestBootNone() => SimulationRun.Execute(GuestBoot(Strategy.None)).Digest;

    [Benchmark(OperationsPerInvoke = GuestBootFaults)]
    public string GuestBootPerFolio() => SimulationRun.Execute(GuestBoot(Strategy.PerFolio)).Digest;

    [Benchmark(OperationsPerInvoke = GuestBootFaults)]
    public string GuestBootFilemap() => SimulationRun.Execute(GuestBoot(Strategy.Filemap)).Digest;

    [Benchmark(OperationsPerInvoke = SecretmemFaults)]
    public string SecretmemTouch() => SimulationRun.Execute(s_secretmem).Digest;

    private static ScenarioConfig GuestBoot(Strategy strategy) => s_guestBoot with { Strategy = strategy };
}
