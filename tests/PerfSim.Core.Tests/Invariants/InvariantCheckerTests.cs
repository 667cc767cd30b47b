using PerfSim.Core.Invariants;

namespace PerfSim.Core.Tests.Invariants;

public sealed class InvariantCheckerTests
{
    [Fact]
    public void An_access_to_a_zapped_page_is_an_oops_naming_pfn_cpu_and_path()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB);
        host.DirectMap.SetInvalidNoFlush(0, 0x1234);

        bool okBefore = host.Checker.CheckAccess(cpu: 2, pfn: 0x1235, KernelPath.ClearHighpage);
        bool ok = host.Checker.CheckAccess(cpu: 3, pfn: 0x1234, KernelPath.ClearHighpage, timeNs: 500);

        Assert.True(okBefore);
        Assert.False(ok);
        Assert.Equal(1, host.Checker.Count(ViolationKind.Oops));
        Violation v = Assert.Single(host.Checker.Recorded);
        Assert.Equal("oops: kernel access to non-present direct-map page pfn 0x1234 on CPU 3 by clear_highpage at 500 ns", v.ToString());
    }

    [Fact]
    public void Freeing_a_zapped_frame_is_a_latent_crash_unless_it_goes_to_the_unmapped_lists()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB);
        host.DirectMap.SetValidNoFlush(0, 512, 512, valid: false);

        Assert.True(host.Checker.CheckFree(0, 512, order: 9, toUnmappedList: true));
        Assert.False(host.Checker.CheckFree(1, 1020, order: 2, toUnmappedList: false));
        Assert.True(host.Checker.CheckFree(1, 1024, order: 0, toUnmappedList: false));

        Assert.Equal(4, host.Checker.Count(ViolationKind.LatentCrash));
        Assert.Equal([1020L, 1021, 1022, 1023], host.Checker.Recorded.Select(v => v.Pfn));
    }

    [Fact]
    public void Counts_stay_exact_beyond_the_recorded_diagnostics()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB);
        host.DirectMap.SetValidNoFlush(0, 0, 1024, valid: false);

        for (long pfn = 0; pfn < 1000; pfn++)
        {
            host.Checker.CheckAccess(0, pfn, KernelPath.MigrationCopy);
        }

        Assert.Equal(1000, host.Checker.Count(ViolationKind.Oops));
        Assert.Equal(InvariantChecker.MaxRecorded, host.Checker.Recorded.Count);
    }
}
