using System.Globalization;

namespace PerfSim.Core.Host;

/// <summary>A range of usable RAM, in 4 KiB frames: [StartPfn, StartPfn + Pages).</summary>
public readonly record struct RamRange(long StartPfn, long Pages)
{
    public long EndPfn => StartPfn + Pages;
}

/// <summary>
/// The physical RAM of a simulated host: sorted, merged, page-aligned RAM ranges (what memblock
/// holds after parsing the firmware's e820 map). Frames outside these ranges are holes.
/// </summary>
public sealed class MemoryLayout
{
    private MemoryLayout(IReadOnlyList<RamRange> ranges)
    {
        Ranges = ranges;
        EndPfn = ranges.Count == 0 ? 0 : ranges[^1].EndPfn;
        RamPages = ranges.Sum(r => r.Pages);
    }

    public IReadOnlyList<RamRange> Ranges { get; }

    /// <summary>One past the last RAM pfn (the kernel's <c>max_pfn</c>).</summary>
    public long EndPfn { get; }

    public long RamPages { get; }

    public long RamBytes => RamPages * PageGeometry.PageSize;

    /// <summary>RAM from physical address 0 up to <paramref name="bytes"/> (rounded down to 4 KiB).</summary>
    public static MemoryLayout FromSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, PageGeometry.PageSize);
        return new MemoryLayout([new RamRange(0, bytes >> PageGeometry.PageShift)]);
    }

    /// <summary>RAM from byte ranges [start, end): partial pages at the edges are dropped (as
    /// memblock does), overlapping and adjacent ranges are merged.</summary>
    public static MemoryLayout FromByteRanges(IEnumerable<(long Start, long End)> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var pages = new List<RamRange>();
        foreach ((long start, long end) in ranges)
        {
            if (start < 0 || end <= start)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"RAM range [0x{start:x}, 0x{end:x}) is empty or negative"), nameof(ranges));
            }

            long first = (start + PageGeometry.PageSize - 1) >> PageGeometry.PageShift;
            long last = end >> PageGeometry.PageShift;
            if (last > first)
            {
                pages.Add(new RamRange(first, last - first));
            }
        }

        pages.Sort((a, b) => a.StartPfn.CompareTo(b.StartPfn));
        var merged = new List<RamRange>();
        foreach (RamRange r in pages)
        {
            if (merged.Count > 0 && r.StartPfn <= merged[^1].EndPfn)
            {
                RamRange prev = merged[^1];
                merged[^1] = prev with { Pages = Math.Max(prev.EndPfn, r.EndPfn) - prev.StartPfn };
            }
            else
            {
                merged.Add(r);
            }
        }

        if (merged.Count == 0)
        {
            throw new ArgumentException("no usable RAM in the given ranges", nameof(ranges));
        }

        return new MemoryLayout(merged);
    }

    /// <summary>True when <paramref name="pfn"/> is in RAM (binary search over the ranges).</summary>
    public bool IsRam(long pfn)
    {
        int lo = 0;
        int hi = Ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            RamRange r = Ranges[mid];
            if (pfn < r.StartPfn)
            {
                hi = mid - 1;
            }
            else if (pfn >= r.EndPfn)
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
