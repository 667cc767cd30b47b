using System.Reflection;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>The kernel's per-CPU counters and their total, which the engine's metrics read after
/// every quantum.</summary>
public sealed class KernelCountersTests
{
    private static readonly FieldInfo[] s_fields = typeof(KernelCounters).GetFields(BindingFlags.Public | BindingFlags.Instance);

    [Fact]
    public void The_total_sums_every_field_of_every_cpu()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, cpus: 5);
        var rng = new Random(19);
        var expected = new long[s_fields.Length];
        for (int cpu = 0; cpu < k.CpuCount; cpu++)
        {
            object boxed = k.CountersOf(cpu);
            for (int f = 0; f < s_fields.Length; f++)
            {
                long value = rng.NextInt64(1, 1L << 40);
                s_fields[f].SetValue(boxed, value);
                expected[f] += value;
            }

            k.CountersOf(cpu) = (KernelCounters)boxed;
        }

        KernelCounters total = k.TotalCounters();
        for (int f = 0; f < s_fields.Length; f++)
        {
            Assert.True(expected[f] == (long)s_fields[f].GetValue(total)!, $"{s_fields[f].Name}: {s_fields[f].GetValue(total)} summed, {expected[f]} expected");
        }
    }

    [Fact]
    public void The_total_allocates_nothing()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, cpus: 64);
        k.CountersOf(63).Faults = 7;
        _ = k.TotalCounters();
        long before = GC.GetAllocatedBytesForCurrentThread();
        KernelCounters total = k.TotalCounters();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(7, total.Faults);
        Assert.Equal(0, allocated);
    }
}
