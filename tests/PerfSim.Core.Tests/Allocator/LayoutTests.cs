using System.Runtime.CompilerServices;
using PerfSim.Core.Allocator;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Tests.Allocator;

public sealed class LayoutTests
{
    [Fact]
    public void PerCpuCounters_FillExactlyOneCacheLine() =>
        Assert.Equal(NativeArena.CacheLine, Unsafe.SizeOf<CpuAllocatorCounters>());

    [Fact]
    public void FreeListHead_Is16Bytes_SoAllPerCpuListsOfACpuFitTwoCacheLines()
    {
        Assert.Equal(16, Unsafe.SizeOf<FreeList>());
        Assert.True(3 * FreeTypes.Count * Unsafe.SizeOf<FreeList>() <= 2 * NativeArena.CacheLine);
    }
}
