using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>Which guest_memfd paths take <c>filemap_invalidate_lock</c> (6.18 virt/kvm/guest_memfd.c).</summary>
public sealed class GuestMemfdLocksTests
{
    // virt/kvm/guest_memfd.c (6.18): kvm_gmem_get_pfn and kvm_gmem_fault_user_mapping take only the
    // folio lock; PUNCH_HOLE (kvm_gmem_fallocate) holds filemap_invalidate_lock exclusively.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Guest_memfd_faults_do_not_wait_for_a_hole_punch_holding_the_invalidate_lock(bool userFault)
    {
        long Fault(bool punchFirst)
        {
            using SimKernel k = KernelFixture.Create(Strategy.None);
            KernelFile f = KernelFixture.Gmem(k, 1024);
            Assert.Equal(0, k.GmemFallocate(0, f, 0, 512));
            if (punchFirst)
            {
                // The punch holds the lock far past the fault (its own price is small without vCPUs).
                k.Clock(0) = 1_000_000;
                k.GmemPunchHole(0, f, 0, 512);
                Assert.True(f.InvalidateLock.WriterFreeAtNs > 0);
            }

            PathResult r = userFault ? k.GmemUserFault(1, f, 700) : k.GmemGetPfn(1, f, 700);
            Assert.True(r.Ok);
            Assert.True(r.LatencyNs < f.InvalidateLock.WriterFreeAtNs || !punchFirst);
            return r.LatencyNs;
        }

        Assert.Equal(Fault(punchFirst: false), Fault(punchFirst: true));
    }

    // mm/secretmem.c: secretmem_fault takes filemap_invalidate_lock_shared, so its faults do wait.
    [Fact]
    public void A_secretmem_fault_still_takes_the_invalidate_lock_shared()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 16, out KernelFile? file));
        file!.InvalidateLock.WriteRelease(1_000_000);

        PathResult r = k.SecretmemFault(1, file, 0);

        Assert.True(r.Ok);
        Assert.True(k.Clock(1) > 1_000_000);
    }
}
