using PerfSim.Core.Host;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Tests.Inputs;

public sealed class InputParsingTests
{
    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("16G", 16L << 30)]
    [InlineData("16GiB", 16L << 30)]
    [InlineData("512m", 512L << 20)]
    [InlineData("1T", 1L << 40)]
    [InlineData("64KB", 64L << 10)]
    public void Sizes_accept_binary_units(string text, long expected)
    {
        Assert.True(Sizes.TryParseBytes(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("G")]
    [InlineData("-1G")]
    [InlineData("1.5G")]
    [InlineData("12Q")]
    [InlineData("99999999999T")]
    public void Sizes_refuse_what_is_not_a_size(string text) => Assert.False(Sizes.TryParseBytes(text, out _));

    [Fact]
    public void E820_from_dmesg_and_sysfs_keeps_only_usable_ranges_with_inclusive_ends()
    {
        const string Text = """
            # comment
            [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
            [    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
            [    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000003fffffff] usable
            0x100000000 0x17fffffff System RAM
            0x180000000 0x1800fffff ACPI Tables
            """;

        MemoryLayout layout = HostInputs.ParseE820(Text, "e820.txt");

        Assert.Equal([new RamRange(0, 0x9f), new RamRange(0x100, 0x40000 - 0x100), new RamRange(0x100000, 0x80000)], layout.Ranges);
        Assert.Equal(0x180000, layout.EndPfn);
    }

    [Fact]
    public void E820_errors_name_the_file_and_line()
    {
        var e = Assert.Throws<InputException>(() => HostInputs.ParseE820("BIOS-e820: [mem 0x0-0xfffff] usable\n0x5 0x1 System RAM\n", "m.txt"));
        Assert.Equal("m.txt:2: range end 0x1 is below its start 0x5", e.Message);

        var none = Assert.Throws<InputException>(() => HostInputs.ParseE820("0x0 0xfff reserved\n", "m.txt"));
        Assert.StartsWith("m.txt: no usable RAM range", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Meminfo_reads_the_direct_map_lines_and_ignores_the_rest()
    {
        MeminfoTotals t = HostInputs.ParseMeminfo("MemTotal:       32768 kB\nDirectMap4k:      1234 kB\nDirectMap2M:    204800 kB\n", "mi");

        Assert.Equal(new MeminfoTotals(1234, 204800, 0), t);
        Assert.Throws<InputException>(() => HostInputs.ParseMeminfo("DirectMap4k: 4 kB\n", "mi"));
    }

    [Fact]
    public void A_malformed_direct_map_line_in_meminfo_is_named_by_its_line()
    {
        var e = Assert.Throws<InputException>(() => HostInputs.ParseMeminfo("MemTotal: 1 kB\nDirectMap4k: lots kB\nDirectMap2M: 2048 kB\n", "mi"));

        Assert.Equal("mi:2: expected 'DirectMap4k|DirectMap2M|DirectMap1G: N kB', got 'DirectMap4k: lots kB'", e.Message);
    }
}
