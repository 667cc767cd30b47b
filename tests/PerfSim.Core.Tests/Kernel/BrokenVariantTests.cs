using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>The invariant checker must fail when it should: each deliberately broken design is
/// caught, and the same run without the bug is clean (the control).</summary>
public sealed class BrokenVariantTests
{
    [Theory]
    [InlineData(KernelBugs.None, ViolationKind.StaleTranslation, 0)]
    [InlineData(KernelBugs.SkipFlush, ViolationKind.StaleTranslation, 50)]
    [InlineData(KernelBugs.SkipRestore, ViolationKind.LatentCrash, 50)]
    [InlineData(KernelBugs.ZeroAfterZap, ViolationKind.Oops, 50)]
    public void Per_folio_bugs_are_caught_by_the_checker(KernelBugs bugs, ViolationKind kind, int expected)
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, bugs: bugs);
        KernelFile f = KernelFixture.Gmem(k, 50);

        for (int i = 0; i < 50; i++)
        {
            k.GmemGetPfn(0, f, i);
        }

        // A zap that splits a leaf flushes every TLB (flush_tlb_all inside the split) before it
        // changes the entry, so only zaps that did not split leave a stale translation behind.
        long zapsThatFlushedAnyway = bugs == KernelBugs.SkipFlush ? k.DirectMap.Level2Splits : 0;
        k.GmemPunchHole(0, f, 0, 50);

        expected -= (int)zapsThatFlushedAnyway;
        Assert.True(bugs == KernelBugs.None || expected > 40, $"the bug shows on most pages ({expected})");
        Assert.Equal(expected, k.Checker.Count(kind));
        Assert.Equal(expected, k.Checker.Total);
        if (expected > 0)
        {
            Assert.Contains(k.Checker.Recorded, v => v.Kind == kind);
        }
    }

    [Fact]
    public void Secretmem_without_its_restore_leaves_latent_crashes_and_zeroing_through_the_zapped_map_oopses()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, bugs: KernelBugs.SkipRestore);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 10, out KernelFile? file));
        for (int i = 0; i < 10; i++)
        {
            k.SecretmemFault(0, file!, i);
        }

        k.SecretmemRelease(0, file!);

        // free_folio zeroes through the direct map it forgot to restore (oops), then the page is
        // freed while still invalid (latent crash).
        Assert.Equal(10, k.Checker.Count(ViolationKind.Oops));
        Assert.Equal(10, k.Checker.Count(ViolationKind.LatentCrash));
        Assert.Contains("folio_zero_segment", k.Checker.Recorded[0].ToString(), StringComparison.Ordinal);
    }
}
