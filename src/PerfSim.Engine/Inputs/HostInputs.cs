using System.Globalization;
using System.Text.RegularExpressions;
using PerfSim.Core;
using PerfSim.Core.Host;
using PerfSim.Reporting.Input;
using PerfSim.Tracing.Files;

namespace PerfSim.Engine.Inputs;

/// <summary>Direct-map totals as /proc/meminfo prints them, in kB.</summary>
public readonly record struct MeminfoTotals(long DirectMap4k, long DirectMap2M, long DirectMap1G);

/// <summary>
/// Parses the host descriptions users paste from real machines: a firmware memory map (the
/// kernel's e820 dump in dmesg, or /sys/firmware/memmap) and /proc/meminfo's DirectMap lines.
/// </summary>
public static partial class HostInputs
{
    // dmesg: "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable"
    [GeneratedRegex(@"(?:BIOS-)?e820:\s*\[mem\s+(0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\]\s+(.+?)\s*$")]
    private static partial Regex DmesgE820();

    // /sys/firmware/memmap/N/{start,end,type} as "start end type": "0x100000 0xbffdffff System RAM"
    [GeneratedRegex(@"^\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(.+?)\s*$")]
    private static partial Regex SysfsMemmap();

    [GeneratedRegex(@"^\s*(DirectMap4k|DirectMap2M|DirectMap1G):\s*(\d+)\s*kB\s*$")]
    private static partial Regex MeminfoDirectMap();

    /// <summary>
    /// Reads RAM ranges from an e820 dump: each line is a dmesg <c>BIOS-e820: [mem A-B] TYPE</c>
    /// line or a sysfs <c>START END TYPE</c> triple; both have inclusive ends. Only
    /// <c>usable</c> / <c>System RAM</c> ranges are RAM; other types (reserved, ACPI) are holes.
    /// Blank lines and <c>#</c> comments are skipped.
    /// </summary>
    public static MemoryLayout ParseE820(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ram = new List<(long Start, long End)>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = StripComment(lines[i]);
            if (line.Length == 0)
            {
                continue;
            }

            Match m = DmesgE820().Match(line);
            if (!m.Success)
            {
                m = SysfsMemmap().Match(line);
            }

            if (!m.Success)
            {
                throw new InputException($"{source}:{i + 1}: not an e820 line: expected 'BIOS-e820: [mem 0xSTART-0xEND] TYPE' or '0xSTART 0xEND TYPE'");
            }

            long start = ParseHex(m.Groups[1].Value, source, i);
            long endInclusive = ParseHex(m.Groups[2].Value, source, i);
            if (endInclusive < start)
            {
                throw new InputException($"{source}:{i + 1}: range end 0x{endInclusive:x} is below its start 0x{start:x}");
            }

            string type = m.Groups[3].Value.Trim();
            if (type.Equals("usable", StringComparison.OrdinalIgnoreCase) || type.Equals("System RAM", StringComparison.OrdinalIgnoreCase))
            {
                ram.Add((start, endInclusive + 1));
            }
        }

        try
        {
            return MemoryLayout.FromByteRanges(ram);
        }
        catch (ArgumentException)
        {
            throw new InputException($"{source}: no usable RAM range (type 'usable' or 'System RAM') of at least 4 KiB");
        }
    }

    /// <summary>Reads the DirectMap4k/2M/1G lines of /proc/meminfo (other lines are ignored, so
    /// a whole meminfo paste works). DirectMap1G is absent without gbpages and counts as 0. Each
    /// line may appear once, and the total must be within <see cref="MaxRamBytes"/>: checked here,
    /// before a boot plan of that many mappings is built.</summary>
    public static MeminfoTotals ParseMeminfo(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        const long MaxKb = MaxRamBytes / 1024;
        var values = new Dictionary<string, (long Kb, int Line)>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = MeminfoDirectMap().Match(lines[i]);
            if (!m.Success)
            {
                if (lines[i].TrimStart().StartsWith("DirectMap", StringComparison.Ordinal))
                {
                    throw new InputException($"{source}:{i + 1}: expected 'DirectMap4k|DirectMap2M|DirectMap1G: N kB', got '{Echo.Of(lines[i].Trim())}'");
                }

                continue;
            }

            string name = m.Groups[1].Value;
            if (!long.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long kb) || kb > MaxKb)
            {
                throw new InputException(string.Create(CultureInfo.InvariantCulture,
                    $"{source}:{i + 1}: {name} {Echo.Of(m.Groups[2].Value)} kB is more than the {MaxKb} kB ({Sizes.Format(MaxRamBytes)}) PerfSim simulates"));
            }

            if (values.TryGetValue(name, out var first))
            {
                throw new InputException(string.Create(CultureInfo.InvariantCulture, $"{source}:{i + 1}: {name} is given twice (first on line {first.Line}); give it once"));
            }

            values[name] = (kb, i + 1);
        }

        if (!values.TryGetValue("DirectMap4k", out var k4) || !values.TryGetValue("DirectMap2M", out var k2))
        {
            throw new InputException($"{source}: needs 'DirectMap4k: N kB' and 'DirectMap2M: N kB' lines (DirectMap1G optional), as in /proc/meminfo");
        }

        long k1 = values.GetValueOrDefault("DirectMap1G").Kb;
        if (k4.Kb + k2.Kb + k1 > MaxKb)
        {
            throw new InputException(string.Create(CultureInfo.InvariantCulture,
                $"{source}: DirectMap4k + DirectMap2M + DirectMap1G = {k4.Kb + k2.Kb + k1} kB, more than the {MaxKb} kB ({Sizes.Format(MaxRamBytes)}) PerfSim simulates"));
        }

        return new MeminfoTotals(k4.Kb, k2.Kb, k1);
    }

    private static string StripComment(string line)
    {
        int hash = line.IndexOf('#', StringComparison.Ordinal);
        return (hash >= 0 ? line[..hash] : line).Trim();
    }

    private static long ParseHex(string text, string source, int lineIndex)
    {
        if (!Sizes.TryParseInteger(text, out long value) || value > (1L << 52))
        {
            throw new InputException($"{source}:{lineIndex + 1}: address {text} is not a 52-bit physical address");
        }

        return value;
    }

    /// <summary>Largest host PerfSim accepts: 4 TiB (1 Gi frames × 8 bytes of frame state is the
    /// practical limit on a 24 GiB machine with the rest of the model).</summary>
    public const long MaxRamBytes = 4 * PageGeometry.TiB;
}
