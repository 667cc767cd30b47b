namespace PerfSim.Core;

/// <summary>Page sizes and shifts of a 4 KiB-granule kernel (x86-64 and arm64 with 4K pages).</summary>
public static class PageGeometry
{
    public const int PageShift = 12;
    public const long PageSize = 1L << PageShift;

    /// <summary>4 KiB pages in a 2 MiB PMD leaf (PTRS_PER_PTE).</summary>
    public const long PagesPer2M = 512;

    /// <summary>4 KiB pages in a 1 GiB PUD leaf (PTRS_PER_PMD × PTRS_PER_PTE).</summary>
    public const long PagesPer1G = 512 * 512;

    /// <summary>Entries in one page-table page at any level.</summary>
    public const int EntriesPerTable = 512;

    public const long KiB = 1024;
    public const long MiB = 1024 * KiB;
    public const long GiB = 1024 * MiB;
    public const long TiB = 1024 * GiB;
}

/// <summary>The level of a direct-map leaf, named as the kernel's <c>PG_LEVEL_*</c>.</summary>
public enum PageLevel : byte
{
    /// <summary>No mapping (a hole in the linear map).</summary>
    None = 0,
    Level4K = 1,
    Level2M = 2,
    Level1G = 3,
}

/// <summary>Helpers for <see cref="PageLevel"/>.</summary>
public static class PageLevels
{
    /// <summary>4 KiB pages covered by one entry of <paramref name="level"/>.</summary>
    public static long Pages(this PageLevel level) => level switch
    {
        PageLevel.Level4K => 1,
        PageLevel.Level2M => PageGeometry.PagesPer2M,
        PageLevel.Level1G => PageGeometry.PagesPer1G,
        _ => 0,
    };

    /// <summary>Size in kB, as /proc/meminfo prints DirectMap lines.</summary>
    public static long KiloBytes(this PageLevel level) => level.Pages() * 4;
}
