using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace PerfSim.Testing;

/// <summary>
/// The one harness for tests that run a body on several host threads at once (linked into each
/// test project that needs it): dedicated threads behind a start gate, so every body starts
/// together; an exception inside a body is rethrown to the test (a raw thread's exception would
/// crash the test host); joins time out, so a hang fails the test instead of stalling the run.
/// </summary>
internal static class HostThreads
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs <paramref name="body"/>(0 .. <paramref name="count"/> − 1), each on its own
    /// thread, all released at once; returns when all are done. Throws the body's exception (an
    /// <see cref="AggregateException"/> if several threw), or a <see cref="TimeoutException"/>
    /// naming the threads that did not finish within <paramref name="timeout"/>.</summary>
    public static void Run(int count, Action<int> body, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(body);
        TimeSpan limit = timeout ?? DefaultTimeout;

        // Not disposed: a thread that hangs may still hold them when the test gives up on it.
        var ready = new CountdownEvent(count);
        var gate = new ManualResetEventSlim(false);
        var failures = new Exception?[count];
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                ready.Signal();
                gate.Wait();
                try
                {
                    body(index);
                }
                catch (Exception e)
                {
                    failures[index] = e;
                }
            })
            { IsBackground = true, Name = $"test-host-thread-{index}" };
            threads[i].Start();
        }

        var clock = Stopwatch.StartNew();
        try
        {
            ready.Wait(limit);
        }
        finally
        {
            gate.Set();
        }

        var hung = new List<int>();
        for (int i = 0; i < count; i++)
        {
            TimeSpan left = limit - clock.Elapsed;
            if (!threads[i].Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                hung.Add(i);
            }
        }

        if (hung.Count > 0)
        {
            throw new TimeoutException($"host threads {string.Join(", ", hung)} of {count} did not finish within {limit}");
        }

        Exception[] thrown = [.. failures.OfType<Exception>()];
        if (thrown.Length == 1)
        {
            ExceptionDispatchInfo.Throw(thrown[0]);
        }

        if (thrown.Length > 1)
        {
            throw new AggregateException(thrown);
        }

        ready.Dispose();
        gate.Dispose();
    }
}
