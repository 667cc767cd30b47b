namespace PerfSim.Core.Tests;

/// <summary>Zero-allocation checks that survive the runtime's own one-off allocations.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="work"/> once to warm up, then in up to <paramref name="windows"/>
    /// measured windows, and fails unless one window allocated nothing on this thread. A per-operation
    /// allocation shows in every window; what this tolerates is the runtime's tiering promoting a
    /// method mid-window (call counting completes on the calling thread and allocates a few KB).
    /// </summary>
    public static void AssertSteadyStateFree(Action work, int windows = 5)
    {
        work();
        var seen = new long[windows];
        for (int i = 0; i < windows; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            work();
            seen[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            if (seen[i] == 0)
            {
                return;
            }
        }

        Assert.Fail("every measured window allocated: " + string.Join(", ", seen) + " bytes");
    }
}
