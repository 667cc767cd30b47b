using System.Globalization;
using PerfSim.Core;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Inputs;

/// <summary>
/// What is checked about a resolved configuration before anything is built: that the guest
/// memory fits the host (<see cref="CheckFits"/>, which the run checks again on the built
/// kernel) and that the run's state fits this machine's memory (<see cref="MemoryEstimate"/>).
/// A sweep calls it for every run before simulating the first, so a bad combination late in
/// the matrix fails at once.
/// </summary>
public static class Preflight
{
    /// <summary>Refuses <paramref name="config"/> on <paramref name="host"/> (null: <c>config.RamBytes</c>
    /// from 0) with one line starting at <paramref name="where"/>.</summary>
    public static void Check(ScenarioConfig config, HostSpec? host, bool allowLargeMemory, string where)
    {
        ArgumentNullException.ThrowIfNull(config);
        long ramBytes = host?.Layout.RamBytes ?? config.RamBytes;
        try
        {
            CheckFits(config, ramBytes);
        }
        catch (InputException e)
        {
            throw new InputException($"{where}: {e.Message}", e);
        }

        if (!allowLargeMemory)
        {
            MemoryEstimate.Check(config, host, where);
        }
    }

    /// <summary>The guest memory a scenario maps must fit in 90% of the host's RAM.</summary>
    public static void CheckFits(ScenarioConfig c, long hostRamBytes)
    {
        ArgumentNullException.ThrowIfNull(c);
        long needed = c.Scenario switch
        {
            ScenarioNames.SecretmemTouch => c.Pages * PageGeometry.PageSize,
            ScenarioNames.VmChurn => c.Vms * c.GuestMemoryBytes,
            ScenarioNames.TlbFlush2 => c.Vcpus * PageGeometry.PageSize,
            _ => c.GuestMemoryBytes,
        };
        long free = (long)(hostRamBytes * 0.9);
        if (needed > free)
        {
            throw new InputException($"guest_memory: {Sizes.Format(needed)} of guest memory does not fit in 90% of the host's {Sizes.Format(hostRamBytes)} of RAM; lower guest_memory (or vms, pages) or raise ram");
        }
    }
}

/// <summary>
/// The memory a run's state takes, from its configuration alone: about 10 bytes per simulated
/// 4 KiB frame (8 of frame state with the free-list links and buddy state folded in, PTE tables
/// for 4K-mapped 2 MiB regions, 4 bytes per cached page: a run that touches every frame; frame
/// records are allocated per 4 MiB chunk touched, so a 1 GiB guest on a 1 TiB, 256-CPU host
/// measures 0.040 B/frame, perf-reports/engine-scale), TLB holder masks of <c>cpus/64 × 8</c> bytes
/// per 2 MiB region, ~64 KiB per CPU (TLB and per-CPU lists) and the runtime itself. A run whose
/// estimate exceeds the memory available to this process is refused (unless
/// <c>--allow-large-memory</c>) rather than ending in "Out of memory".
/// </summary>
public static class MemoryEstimate
{
    /// <summary>Frame state (free-list links and buddy state folded in), PTE tables and page-cache
    /// slots per 4 KiB frame when a run touches every frame: 8 B of record, 0.016 B of per-chunk
    /// state; kept at 10 so that the estimate errs on the safe side (a run that splits every 2 MiB
    /// region adds 1 B per frame of PTE tables, and each cached page costs 4 B). A run touching
    /// little needs far less (0.040 B/frame for a 1 GiB guest on 1 TiB), but nothing bounds in
    /// advance how many chunks a scenario touches.</summary>
    public const double BytesPerFrame = 10;

    /// <summary>TLB, per-CPU lists and counters of one simulated CPU.</summary>
    public const long BytesPerCpu = 64 * 1024;

    /// <summary>The runtime, the JIT and the report: present whatever the configuration.</summary>
    public const long BaseBytes = 128L << 20;

    private static readonly AsyncLocal<long?> s_assumedAvailable = new();

    /// <summary>Bytes the run's state needs, estimated.</summary>
    public static long Bytes(ScenarioConfig config, HostSpec? host)
    {
        ArgumentNullException.ThrowIfNull(config);
        long frames = host?.Layout.EndPfn ?? (config.RamBytes / PageGeometry.PageSize);
        long regions2M = (frames + PageGeometry.PagesPer2M - 1) / PageGeometry.PagesPer2M;
        long maskBytes = regions2M * ((config.Cpus + 63) / 64) * 8;
        return BaseBytes + (long)(frames * BytesPerFrame) + maskBytes + (config.Cpus * BytesPerCpu);
    }

    /// <summary>Memory this process may still use: the least of the GC's view (which honours a
    /// cgroup limit) and /proc/meminfo's MemAvailable, plus what it already holds.</summary>
    public static long AvailableBytes()
    {
        if (s_assumedAvailable.Value is { } assumed)
        {
            return assumed;
        }

        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (MemAvailableFromProc() is { } memAvailable)
        {
            available = Math.Min(available, memAvailable + Environment.WorkingSet);
        }

        return available;
    }

    /// <summary>Makes <see cref="AvailableBytes"/> return <paramref name="bytes"/> in this flow of
    /// execution until disposed: tests of the refusal, independent of the machine.</summary>
    public static IDisposable AssumeAvailable(long bytes)
    {
        long? previous = s_assumedAvailable.Value;
        s_assumedAvailable.Value = bytes;
        return new Restore(() => s_assumedAvailable.Value = previous);
    }

    /// <summary>Refuses a run whose estimate exceeds <see cref="AvailableBytes"/>.</summary>
    public static void Check(ScenarioConfig config, HostSpec? host, string where)
    {
        long needed = Bytes(config, host);
        long available = AvailableBytes();
        if (needed > available)
        {
            throw new InputException(string.Create(CultureInfo.InvariantCulture,
                $"{where}: this run needs about {Gib(needed)} of memory ({Sizes.Format(host?.Layout.RamBytes ?? config.RamBytes)} of host RAM at ~{BytesPerFrame} B per 4 KiB frame, {config.Cpus} CPUs) and {Gib(available)} is available; lower ram (or cpus), or pass --allow-large-memory to try anyway"));
        }
    }

    private static string Gib(long bytes) => bytes < PageGeometry.GiB
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / PageGeometry.MiB} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)PageGeometry.GiB:F1} GiB");

    private static long? MemAvailableFromProc()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                {
                    return kb * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or no procfs: the GC's figure stands.
        }

        return null;
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
