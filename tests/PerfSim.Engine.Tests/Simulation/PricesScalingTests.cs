using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

/// <summary>Issue 16's scaling check for <c>none</c> (no direct-map work, so the mapping's
/// <c>i_pages</c> lock is the only lock every fault takes): guest-boot's faults per simulated second
/// grow with the vCPUs within 20% of linear until the one lock's capacity, one xarray store (plus the
/// hand-off when contended) per fault (mm/filemap.c: <c>__filemap_add_folio</c> holds
/// <c>xas_lock_irq</c> for the store only), caps them.</summary>
public sealed class PricesScalingTests
{
    private static double FaultsPerSimSecond(int vcpus) => SimulationRun.Execute(new ScenarioConfig
    {
        Scenario = ScenarioNames.GuestBoot,
        Strategy = Strategy.None,
        Cpus = 64,
        Vcpus = vcpus,
        RamBytes = 4 * PageGeometry.GiB,
        GuestMemoryBytes = 64 * PageGeometry.MiB,
        PopulateFraction = 0,
        Seed = 16,
        Threads = 2,
    }).FaultsPerSimSecond;

    [Fact]
    public void None_scales_with_vcpus_until_the_xarray_store_saturates_the_i_pages_lock()
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64);
        double one = FaultsPerSimSecond(1);
        double lockCapacity = 1e9 / (costs.XarrayStoreNs + costs.LockHandoffNs);
        foreach (int vcpus in new[] { 8, 64 })
        {
            double expected = Math.Min(vcpus * one, lockCapacity);
            double measured = FaultsPerSimSecond(vcpus);
            Assert.InRange(measured, 0.8 * expected, 1.2 * expected);
        }

        // Below the lock's capacity the check of the issue holds: 8 vCPUs, 8 × the one-vCPU rate.
        Assert.True(8 * one < lockCapacity, $"8 vCPUs ask {8 * one:F0} faults/s of a lock that serves {lockCapacity:F0}");
    }
}
