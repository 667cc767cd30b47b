using PerfSim.Testing;

namespace PerfSim.Core.Tests.Concurrency;

/// <summary>The shared multi-thread harness: bodies start together, failures reach the test,
/// hangs time out.</summary>
public sealed class HostThreadsTests
{
    [Fact]
    public void Every_body_runs_on_its_own_thread_and_all_run_at_once()
    {
        const int Threads = 4;
        using var together = new Barrier(Threads);
        var ids = new int[Threads];
        var met = new bool[Threads];
        HostThreads.Run(Threads, i =>
        {
            ids[i] = Environment.CurrentManagedThreadId;
            // Only bodies running at the same time can all pass a barrier of four.
            met[i] = together.SignalAndWait(TimeSpan.FromMinutes(1));
        });

        Assert.All(met, Assert.True);
        Assert.Equal(Threads, ids.Distinct().Count());
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, ids);
    }

    [Fact]
    public void An_exception_inside_a_body_is_rethrown_to_the_test()
    {
        var e = Assert.Throws<InvalidOperationException>(() => HostThreads.Run(3, i =>
        {
            if (i == 1)
            {
                throw new InvalidOperationException("body 1 failed");
            }
        }));
        Assert.Equal("body 1 failed", e.Message);

        var all = Assert.Throws<AggregateException>(() => HostThreads.Run(2, i => throw new ArgumentException($"body {i}")));
        Assert.Equal(2, all.InnerExceptions.Count);
    }

    [Fact]
    public void A_body_that_does_not_finish_fails_the_run_with_a_timeout_naming_it()
    {
        using var release = new ManualResetEventSlim(false);
        try
        {
            var e = Assert.Throws<TimeoutException>(() => HostThreads.Run(2, i =>
            {
                if (i == 1)
                {
                    release.Wait();
                }
            }, TimeSpan.FromMilliseconds(200)));
            Assert.Contains("host threads 1 of 2", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
        }
    }
}
