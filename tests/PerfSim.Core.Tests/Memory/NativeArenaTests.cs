using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.Memory;

public sealed class NativeArenaTests
{
    [Fact]
    public void Allocations_are_zeroed_aligned_and_tracked()
    {
        using var arena = new NativeArena();
        NativeArray<long> a = arena.Allocate<long>(1000);
        NativeArray<byte> b = arena.Allocate<byte>(3);

        Assert.Equal(2, arena.BlockCount);
        Assert.Equal(1000 * sizeof(long) + 3, arena.AllocatedBytes);
        for (long i = 0; i < a.Length; i++)
        {
            Assert.Equal(0, a[i]);
        }

        a[999] = 42;
        Assert.Equal(42, a[999]);
        Assert.Equal(0, b[2]);
    }

    [Fact]
    public void Indexing_outside_the_array_throws_instead_of_corrupting_memory()
    {
        using var arena = new NativeArena();
        NativeArray<int> a = arena.Allocate<int>(10);

        Assert.Throws<ArgumentOutOfRangeException>(() => a[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => a[-1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Fill(5, 6, 1));
    }

    [Fact]
    public void Dispose_returns_every_byte_of_a_whole_direct_map_host()
    {
        var arena = new NativeArena();
        var frames = new FrameTable(arena, MemoryLayout.FromSize(8 * PageGeometry.GiB));
        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());
        dm.SetInvalidNoFlush(0, 12345);
        Assert.True(arena.AllocatedBytes > 8 * PageGeometry.GiB / PageGeometry.PageSize, "frames + PTE bytes are native");

        arena.Dispose();

        Assert.Equal(0, arena.AllocatedBytes);
        Assert.Equal(0, arena.BlockCount);
        Assert.Throws<ObjectDisposedException>(() => arena.Allocate<byte>(1));
    }

    [Fact]
    public void Process_wide_live_bytes_fall_back_after_dispose()
    {
        // Other tests allocate concurrently, so measure a block far larger than their noise and
        // check that exactly it comes and goes.
        const long Size = 256L * 1024 * 1024;
        long before = NativeArena.LiveBytes;
        var arena = new NativeArena();
        arena.Allocate<byte>(Size);
        long during = NativeArena.LiveBytes;
        arena.Dispose();
        long after = NativeArena.LiveBytes;

        Assert.True(during - before >= Size / 2, $"live bytes grew by {during - before}");
        Assert.True(during - after >= Size / 2, $"live bytes fell by {during - after}");
    }
}
