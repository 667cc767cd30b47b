using PerfSim.Core;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageCache;
using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

public sealed class GuestVcpuTests
{
    /// <summary>A vCPU that chooses its pages one step further ahead (to prefetch the next one's
    /// page-cache slot) faults the same pages in the same order as one that does not: seeded, with
    /// jumps frequent enough that the order is far from sequential.</summary>
    [Theory]
    [InlineData(1, 0.3)]
    [InlineData(2, 0.05)]
    [InlineData(3, 1.0)]
    public void Looking_ahead_faults_the_same_pages_in_the_same_order(long seed, double jump)
    {
        const int Pages = 1024;
        var config = new ScenarioConfig
        {
            Cpus = 4,
            Vcpus = 2,
            RamBytes = 256 * PageGeometry.MiB,
            GuestMemoryBytes = 2 * Pages * PageGeometry.PageSize,
            Seed = seed,
            Threads = 1,
        };
        using RunScope scope = RunScope.Start(config, host: null, recorder: null, progress: null);
        SimKernel kernel = scope.Kernel;
        KernelProcess vmm = kernel.CreateProcess();
        KernelFile plainFile = SimulationRun.CreateGuestMemfd(kernel, vmm, Pages);
        KernelFile aheadFile = SimulationRun.CreateGuestMemfd(kernel, vmm, Pages);
        kernel.RunThread(vmm, 0, vcpu: true);
        kernel.RunThread(vmm, 1, vcpu: true);
        var plain = new GuestVcpu(0, plainFile, 0, Pages, seed, jump, lookAhead: false);
        var ahead = new GuestVcpu(1, aheadFile, 0, Pages, seed, jump, lookAhead: true);

        List<long> plainOrder = FaultOrder(scope.Context, plain, plainFile);
        List<long> aheadOrder = FaultOrder(scope.Context, ahead, aheadFile);

        Assert.Equal(plainOrder, aheadOrder);
        Assert.Equal(Pages, plainOrder.Distinct().Count());
        Assert.NotEqual(plainOrder.Order().ToList(), plainOrder);
    }

    /// <summary>Steps the vCPU to its end, noting the index each step brought into the page cache.</summary>
    private static List<long> FaultOrder(SimContext context, GuestVcpu vcpu, KernelFile file)
    {
        ShardedPageCache cache = context.Kernel.PageCache;
        var cached = new bool[file.SizePages];
        var order = new List<long>();
        bool more = true;
        while (more)
        {
            more = vcpu.Step(context);
            for (long i = 0; i < file.SizePages; i++)
            {
                if (!cached[i] && cache.TryLookup(file.Mapping, i, out _))
                {
                    cached[i] = true;
                    order.Add(i);
                }
            }
        }

        return order;
    }
}
