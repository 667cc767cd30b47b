namespace PerfSim.Core.Timeline;

/// <summary>
/// A lock in simulated time: a FIFO server that is free from <see cref="FreeAtNs"/> on. A CPU
/// asking at time t is granted at max(t, FreeAtNs) and pays a hand-off when it had to wait.
/// </summary>
/// <remarks>Exact when acquisitions are made in simulated-time order (the engine's canonical
/// order); not synchronised: acquisitions are applied on one thread (serial steps, or the weave).</remarks>
public struct SimLock
{
    public long FreeAtNs;
    public long Acquisitions;
    public long Contended;
    public long WaitNs;

    /// <summary>Holds the lock for <paramref name="holdNs"/> starting no earlier than
    /// <paramref name="clock"/>; advances <paramref name="clock"/> to the release. Returns the wait.</summary>
    public long Hold(ref long clock, long holdNs, long handoffNs)
    {
        Acquisitions++;
        long wait = 0;
        if (FreeAtNs > clock)
        {
            wait = FreeAtNs - clock + handoffNs;
            Contended++;
            WaitNs += wait;
        }

        clock += wait + holdNs;
        FreeAtNs = clock;
        return wait;
    }
}
