namespace PerfSim.Core.Allocator;

/// <summary>Boot-time configuration of the <see cref="PageAllocator"/>.</summary>
public sealed record AllocatorOptions
{
    /// <summary>Number of simulated CPUs (each gets its own per-CPU lists and counters).</summary>
    public int CpuCount { get; init; } = 1;

    /// <summary>Low memory reserved at boot. x86-64 reserves the first 1 MiB (BIOS data, real-mode
    /// trampoline: <c>memblock_reserve(0, SZ_1M)</c> in arch/x86/kernel/setup.c) and never gives it
    /// to the buddy allocator.</summary>
    public long ReservedLowBytes { get; init; } = PageGeometry.MiB;

    /// <summary>Physical start of the kernel image: <c>CONFIG_PHYSICAL_START</c> defaults to 16 MiB.</summary>
    public long KernelImageStart { get; init; } = 16 * PageGeometry.MiB;

    /// <summary>Bytes of kernel image (text, data, bss) reserved at <see cref="KernelImageStart"/>.
    /// 16 MiB is the size of a typical distribution kernel with its bss.</summary>
    public long KernelImageBytes { get; init; } = 16 * PageGeometry.MiB;

    /// <summary>Per-CPU list batch; null = the kernel's <c>zone_batchsize()</c> (63 for zones of at
    /// least 1 GiB).</summary>
    public int? PcpBatch { get; init; }

    /// <summary>Per-CPU list high mark; null = 6 × batch, the <c>pageset_set_batch()</c> rule of
    /// kernels up to 5.13 (later kernels derive it from the low watermark and scale it at run time,
    /// which the model does not simulate).</summary>
    public int? PcpHigh { get; init; }
}
