using PerfSim.Core;

namespace PerfSim.Benchmarks.Tests;

/// <summary>The floor loop does the work it claims, every pass (its speed is BenchmarkDotNet's to show).</summary>
public sealed class FloorLoopTests
{
    private const long Guest = 256 * PageGeometry.PageSize;
    private const long Host = 1024 * PageGeometry.PageSize;

    [Fact]
    public void Every_pass_faults_every_guest_page_once_into_an_empty_page_cache()
    {
        var loop = new FloorLoop(Guest, Host, FloorLoop.Order.Scattered);
        Assert.Equal(256, loop.Faults);
        Assert.Equal(-1, loop.CachedFrame(0));
        for (int pass = 1; pass <= 3; pass++)
        {
            Assert.Equal(256L * pass, loop.Run());
            Assert.Equal((256L * pass, 256L * pass * PageGeometry.PageSize), loop.Counters);

            // Each guest page holds one distinct frame, in the order the free list hands them out.
            long[] frames = [.. Enumerable.Range(0, 256).Select(loop.CachedFrame)];
            Assert.Equal(Enumerable.Range(0, 256).Select(i => (long)i), frames.Order());
            Assert.Equal(0, loop.CachedFrame(loop.FaultOrder[0]));
        }
    }

    [Fact]
    public void Scattered_order_is_a_seeded_permutation_and_page_order_the_identity()
    {
        int[] scattered = new FloorLoop(Guest, Host, FloorLoop.Order.Scattered).FaultOrder.ToArray();
        Assert.Equal(scattered, new FloorLoop(Guest, Host, FloorLoop.Order.Scattered).FaultOrder.ToArray());
        Assert.NotEqual(scattered, new FloorLoop(Guest, Host, FloorLoop.Order.Scattered, seed: 2).FaultOrder.ToArray());
        Assert.NotEqual(Enumerable.Range(0, 256), scattered);
        Assert.Equal(Enumerable.Range(0, 256), scattered.Order());
        Assert.Equal(Enumerable.Range(0, 256), new FloorLoop(Guest, Host, FloorLoop.Order.PageOrder).FaultOrder.ToArray());
    }

    [Fact]
    public void A_guest_larger_than_the_host_or_smaller_than_a_page_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FloorLoop(Host + PageGeometry.PageSize, Host, FloorLoop.Order.Scattered));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FloorLoop(PageGeometry.PageSize - 1, Host, FloorLoop.Order.Scattered));
    }
}
