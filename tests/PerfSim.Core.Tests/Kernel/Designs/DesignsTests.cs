using PerfSim.Core.Allocator;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Kernel.Designs;

/// <summary>The design records: one per <see cref="Strategy"/>, names from the records, and the
/// engine's locality test agreeing with what each design's paths do.</summary>
public sealed class DesignsTests
{
    public static TheoryData<Strategy> Every => [.. Core.Kernel.Designs.All.Select(d => d.Id)];

    [Fact]
    public void Every_strategy_id_has_exactly_one_design_and_names_round_trip()
    {
        Assert.Equal(Enum.GetValues<Strategy>(), Core.Kernel.Designs.All.Select(d => d.Id));
        Assert.Equal(Core.Kernel.Designs.All.Select(d => d.Name), KernelNames.Strategies);
        Assert.Equal(KernelNames.Strategies.Count, KernelNames.Strategies.Distinct().Count());
        foreach (Strategy s in Enum.GetValues<Strategy>())
        {
            Assert.True(KernelNames.TryParseStrategy(s.Name(), out Strategy parsed));
            Assert.Equal(s, parsed);
            Assert.Same(Core.Kernel.Designs.For(s), Core.Kernel.Designs.All[(int)s]);
        }

        Assert.False(KernelNames.TryParseStrategy("secretmem", out _));
        Assert.False(KernelNames.TryParseStrategy(null, out _));
    }

    [Fact]
    public void Only_the_kept_direct_map_refuses_no_direct_map_and_files_without_the_flag_keep_it()
    {
        foreach (Design d in Core.Kernel.Designs.All)
        {
            using SimKernel k = KernelFixture.Create(d.Id);
            int error = k.GmemCreate(k.CreateProcess(), 16, GmemFlags.NoDirectMap, VmType.Default, out KernelFile? file);
            Assert.Equal(d.RemovesDirectMap, error == 0);
            Assert.Equal(0, k.GmemCreate(k.CreateProcess(), 16, GmemFlags.None, VmType.Default, out KernelFile? plain));
            Assert.Same(Core.Kernel.Designs.DirectMapKept, plain!.Design);
            if (file is not null)
            {
                Assert.Same(d, file.Design);
            }
        }
    }

    /// <summary>
    /// The engine runs a fault in a parallel round when <see cref="SimKernel.FaultIsCpuLocal"/> says
    /// so, and the kernel throws if such a step touches shared state. For every design (a new one
    /// included), first touches and re-faults on four CPUs must never throw, and the steady state
    /// must be local where the design allows it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Every))]
    public void The_locality_test_lets_through_only_faults_that_stay_on_their_cpu(Strategy strategy)
    {
        using SimKernel k = KernelFixture.Create(strategy);
        Design design = k.Design;
        KernelFile file = KernelFixture.Gmem(k, 2048);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 256, out KernelFile? secret));
        using QuantumSession session = k.BeginQuanta(new NoLatencies());
        int localFirst = 0;
        int localAgain = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < 1024; i++)
            {
                int cpu = i % 4;
                long index = (cpu * 512) + (i / 4);
                bool local = k.FaultIsCpuLocal(cpu, file, index);
                using (local ? session.BeginParallelRound() : default)
                {
                    Assert.True(k.GmemGetPfn(cpu, file, index).Ok);
                }

                if (local)
                {
                    _ = pass == 0 ? localFirst++ : localAgain++;
                }

                bool secretLocal = k.FaultIsCpuLocal(cpu, secret!, i % 256);
                using (secretLocal ? session.BeginParallelRound() : default)
                {
                    Assert.True(k.SecretmemFault(cpu, secret!, i % 256).Ok);
                }
            }
        }

        session.Dispose();
        Assert.Equal(1024, localAgain);
        if (design.Alloc == AllocFlags.None)
        {
            Assert.True(localFirst > 900, $"{design.Name}: {localFirst} of 1024 first touches ran in parallel");
        }
        else
        {
            Assert.Equal(0, localFirst);
        }

        Assert.Equal(0, k.Checker.Total);
    }

    private sealed class NoLatencies : ILatencySink
    {
        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs)
        {
        }
    }
}
