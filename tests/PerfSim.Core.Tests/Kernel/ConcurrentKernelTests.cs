using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>
/// Many host threads faulting, writing and punching holes on the same mappings of a thread-safe
/// kernel, checked for conservation, for a clean invariant checker, and against a sequential run
/// of the same operations. Each thread punches only its own range, so the final cached set does
/// not depend on interleaving; the shared ranges race on inserts (-EEXIST) by design.
/// </summary>
public sealed class ConcurrentKernelTests
{
    private const int Threads = 4;
    private const int OwnPages = 256;
    private const int SharedPages = 1024;
    private const int SecretPages = 128;
    private const int OpsPerThread = 1500;

    private enum OpKind
    {
        FaultOwn,
        WriteOwn,
        PunchOwn,
        FaultShared,
        TouchSecret,
    }

    private readonly record struct Op(OpKind Kind, long Index, long Pages);

    [Theory]
    [InlineData(Strategy.PerFolio, 11)]
    [InlineData(Strategy.PerFolioV12, 12)]
    [InlineData(Strategy.Filemap, 13)]
    [InlineData(Strategy.UnmappedAlloc, 14)]
    [InlineData(Strategy.None, 15)]
    public void Concurrent_faults_writes_and_punches_conserve_frames_and_match_a_sequential_run(Strategy strategy, int seed)
    {
        Op[][] plans = [.. Enumerable.Range(0, Threads).Select(t => Plan(new Random(seed * 100 + t), t))];

        Outcome concurrent = Run(strategy, plans, parallel: true);
        Outcome sequential = Run(strategy, plans, parallel: false);

        Assert.Equal(sequential.Cached, concurrent.Cached);
        Assert.Equal(sequential.SecretCached, concurrent.SecretCached);
        Assert.Equal(sequential.Zaps, concurrent.Zaps);
        Assert.Equal(sequential.Restores, concurrent.Restores);
        Assert.Equal(0, concurrent.Violations);
        Assert.Equal(0, sequential.Violations);
    }

    private static Op[] Plan(Random rng, int thread)
    {
        var ops = new Op[OpsPerThread];
        long own = thread * OwnPages;
        for (int i = 0; i < ops.Length; i++)
        {
            int roll = rng.Next(100);
            ops[i] = roll switch
            {
                < 40 => new Op(OpKind.FaultOwn, own + rng.Next(OwnPages), 1),
                < 55 => new Op(OpKind.WriteOwn, own + rng.Next(OwnPages), 1),
                < 60 => new Op(OpKind.PunchOwn, own + rng.Next(OwnPages - 16), rng.Next(1, 16)),
                < 85 => new Op(OpKind.FaultShared, (Threads * OwnPages) + rng.Next(SharedPages), 1),
                _ => new Op(OpKind.TouchSecret, rng.Next(SecretPages), 1),
            };
        }

        return ops;
    }

    private sealed record Outcome(long[] Cached, long[] SecretCached, long Zaps, long Restores, long Violations);

    private static Outcome Run(Strategy strategy, Op[][] plans, bool parallel)
    {
        using SimKernel k = KernelFixture.Create(strategy, cpus: Threads, threadSafe: parallel);
        KernelFile gmem = KernelFixture.Gmem(k, (Threads * OwnPages) + SharedPages);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), SecretPages, out KernelFile? secret));

        void Execute(int cpu)
        {
            foreach (Op op in plans[cpu])
            {
                switch (op.Kind)
                {
                    case OpKind.FaultOwn or OpKind.FaultShared:
                        Assert.True(k.GmemGetPfn(cpu, gmem, op.Index).Ok);
                        break;
                    case OpKind.WriteOwn:
                        Assert.True(k.Populate(cpu, gmem, op.Index, PopulationPath.WriteMermap).Ok);
                        break;
                    case OpKind.PunchOwn:
                        k.GmemPunchHole(cpu, gmem, op.Index, op.Pages);
                        break;
                    default:
                        Assert.True(k.SecretmemFault(cpu, secret!, op.Index).Ok);
                        break;
                }
            }
        }

        if (parallel)
        {
            using var start = new Barrier(Threads);
            Thread[] threads = [.. Enumerable.Range(0, Threads).Select(cpu => new Thread(() =>
            {
                start.SignalAndWait();
                Execute(cpu);
            }))];
            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a kernel thread hung");
            }
        }
        else
        {
            for (int cpu = 0; cpu < Threads; cpu++)
            {
                Execute(cpu);
            }
        }

        long[] cached = [.. Enumerable.Range(0, (int)gmem.SizePages).Where(i => k.PageCache.TryLookup(gmem.Mapping, i, out _)).Select(i => (long)i)];
        long[] secretCached = [.. Enumerable.Range(0, SecretPages).Where(i => k.PageCache.TryLookup(secret!.Mapping, i, out _)).Select(i => (long)i)];
        KernelFixture.AssertConserved(k, cached.Length + secretCached.Length);
        KernelCounters c = k.TotalCounters();
        var outcome = new Outcome(cached, secretCached, c.DirectMapZaps - c.EexistRestores, c.DirectMapRestores - c.EexistRestores, k.Checker.Total);

        k.GmemRelease(0, gmem);
        k.SecretmemRelease(0, secret!);
        KernelFixture.AssertConserved(k, 0);
        Assert.Equal(0, k.Checker.Total);
        return outcome;
    }
}
