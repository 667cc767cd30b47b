using System.Diagnostics;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// How a host thread waits for the next round or for the others to finish one: rounds are tens of
/// µs apart, so it spins on the CPU (no syscall, so it starts the moment the round does) for up
/// to <see cref="SpinMicroseconds"/>, then blocks until the thread that makes its condition true
/// calls <see cref="WakeAll"/> (a round released, the last share of a round finished, a stop).
/// </summary>
/// <remarks>
/// <para>Yielding from the start (SpinWait's yield after ~10 spins) made the worker start each
/// round late by a <c>sched_yield</c> return: with ~23,000 rounds on the 8 GiB run, a round took
/// ~40% longer than the caller's share of it.</para>
/// <para>Spinning and yielding without end (the waiter before this one) is what made
/// <c>--threads</c> above the core count cost 50 times more: a waiter that only yields keeps its
/// core from the thread it waits for. Blocking needs a wake-up from whoever changes the condition:
/// a wait that only timed out (the first version of this waiter woke parked threads when a new wait
/// began, so a parked caller slept ~1 ms per round waiting for the last worker) kept
/// <c>--threads 4</c> on two cores at 35 s for a 1.3 s run. A wait that started before a wake-up but
/// parks after it does not sleep through it (<see cref="s_epoch"/>), and a parked thread rechecks
/// after <see cref="ParkMilliseconds"/> anyway.</para>
/// </remarks>
internal struct Backoff
{
    private const int SpinMicroseconds = 200;
    private const int ParkMilliseconds = 1;
    private static readonly long s_spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static readonly object s_parking = new();
    private static long s_epoch;
    private static int s_parked;

    private readonly long _start;
    private long _epoch;
    private int _spins;

    /// <summary>Starts a wait, before the first check of its condition. <paramref name="spin"/> false
    /// parks at once: with more host threads than cores, a spinning waiter holds the core that the
    /// thread it waits for needs (a scheduler time slice per round: vm-churn at <c>--threads 3</c> on
    /// two cores took 31 s spinning 200 µs, against 1.3 s on one thread).</summary>
    public Backoff(long startTimestamp, bool spin = true)
    {
        _start = startTimestamp;
        _epoch = Volatile.Read(ref s_epoch);
        _spins = spin ? 0 : -1;
    }

    /// <summary>Wakes every parked waiter; call it right after making a waited-for condition true.</summary>
    public static void WakeAll()
    {
        // Interlocked is a full fence: either a parker sees the new epoch, or this sees it parked.
        Interlocked.Increment(ref s_epoch);
        if (Volatile.Read(ref s_parked) > 0)
        {
            lock (s_parking)
            {
                Monitor.PulseAll(s_parking);
            }
        }
    }

    /// <summary>Called while the awaited condition is false: spins, then parks until a wake-up.</summary>
    public void Once()
    {
        if (_spins >= 0)
        {
            Thread.SpinWait(4);
            if ((++_spins & 63) != 0 || Stopwatch.GetTimestamp() - _start < s_spinTicks)
            {
                return;
            }

            _spins = -1;
        }

        lock (s_parking)
        {
            Interlocked.Increment(ref s_parked);
            long epoch = Volatile.Read(ref s_epoch);
            if (epoch == _epoch)
            {
                Monitor.Wait(s_parking, ParkMilliseconds);
                epoch = Volatile.Read(ref s_epoch);
            }

            _epoch = epoch;
            Interlocked.Decrement(ref s_parked);
        }
    }
}
