using System.Text.Json;

namespace PerfSim.Cli.Tests;

public sealed class DirectMapCommandTests
{
    [Fact]
    public void A_4K_zap_in_a_1G_leaf_prints_the_kernel_counters()
    {
        var (code, output, err) = CliRunner.RunWithStdin("invalid 0x40005\n", "directmap", "--ram", "4G");

        Assert.Equal((0, ""), (code, err));
        Assert.Matches(@"DirectMap4k:\s+0 kB\s+2048 kB\n", output);
        Assert.Matches(@"DirectMap1G:\s+4194304 kB\s+3145728 kB\n", output);
        Assert.Matches(@"direct_map_level2_splits:\s+1\n", output);
        Assert.Matches(@"direct_map_level3_splits:\s+1\n", output);
        Assert.Matches(@"page-table pages allocated:\s+2\n", output);
        Assert.Matches(@"global flushes \(flush_tlb_all\):\s+2\n", output);
    }

    [Fact]
    public void Json_output_uses_the_kernel_names_and_reports_violations()
    {
        const string Script = """
            # zap a whole 2M region in one call, then touch it and free a page of it
            valid 512 512 0
            access 700
            free 0x200 2
            """;
        var (code, output, _) = CliRunner.RunWithStdin(Script, "directmap", "--ram", "1G", "--gbpages", "off", "--json");

        Assert.Equal(1, code);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal("perfsim.directmap/1", root.GetProperty("schema").GetString());
        Assert.Equal(1048576, root.GetProperty("before").GetProperty("DirectMap2M").GetInt64());
        Assert.Equal(1048576, root.GetProperty("after").GetProperty("DirectMap2M").GetInt64());
        Assert.Equal(0, root.GetProperty("direct_map_level2_splits").GetInt64());
        Assert.Equal(1, root.GetProperty("violations").GetProperty("oops").GetInt64());
        Assert.Equal(2, root.GetProperty("violations").GetProperty("latent_crash").GetInt64());
        Assert.Contains("pfn 0x2bc", root.GetProperty("violations").GetProperty("recorded")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Injected_allocation_failure_is_reported_as_ENOMEM_on_its_line()
    {
        var (code, output, _) = CliRunner.RunWithStdin("fail-alloc 1\ninvalid 100\ninvalid 101\n", "directmap", "--ram", "1G");

        Assert.Equal(0, code);
        Assert.Contains("error: line 2: invalid at pfn 0x64 returned -ENOMEM", output, StringComparison.Ordinal);
        Assert.Matches(@"direct_map_level3_splits:\s+1\n", output);
    }

    [Fact]
    public void An_e820_dump_and_a_meminfo_paste_build_the_host()
    {
        using var e820 = new CliRunner.TempFile("""
            [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
            [    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
            [    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable
            0x100000000 0x13fffffff System RAM
            """);
        using var meminfo = new CliRunner.TempFile("MemTotal: 1 kB\nDirectMap4k:      409600 kB\nDirectMap2M:    6291456 kB\nDirectMap1G:    3145728 kB\n");

        var fromE820 = CliRunner.RunWithStdin("", "directmap", "--e820", e820.Path, "--json", "--script", "/dev/null");
        var fromMeminfo = CliRunner.RunWithStdin("", "directmap", "--meminfo", meminfo.Path, "--json", "--script", "/dev/null");

        Assert.Equal(0, fromE820.Code);
        using JsonDocument a = JsonDocument.Parse(fromE820.Out);
        Assert.Equal(3 * 1048576, a.RootElement.GetProperty("before").GetProperty("DirectMap1G").GetInt64());
        Assert.Equal(0x9f * 4 + 256 * 4, a.RootElement.GetProperty("before").GetProperty("DirectMap4k").GetInt64());
        Assert.Equal(0, fromMeminfo.Code);
        using JsonDocument b = JsonDocument.Parse(fromMeminfo.Out);
        Assert.Equal(409600, b.RootElement.GetProperty("before").GetProperty("DirectMap4k").GetInt64());
        Assert.Equal(6291456, b.RootElement.GetProperty("before").GetProperty("DirectMap2M").GetInt64());
    }

    [Theory]
    [InlineData("zap 5\n", "<stdin>:1: unknown operation 'zap'")]
    [InlineData("# fine\ninvalid 12 x\n", "<stdin>:2: NPAGES 'x' must be a number")]
    [InlineData("valid 5 1\n", "<stdin>:1: expected 'valid PFN NPAGES 0|1'")]
    [InlineData("valid 5 1 2\n", "<stdin>:1: the last field of 'valid' must be 0 or 1")]
    [InlineData("invalid 0x40000\n", "<stdin>:1: PFN range 0x40000+1 is outside RAM (PFNs 0 to 0x3ffff)")]
    [InlineData("invalid 0x3ffff 2\n", "outside RAM")]
    [InlineData("access 0xzz\n", "PFN '0xzz' is not a decimal or 0x-hex number")]
    public void A_bad_script_line_gives_one_error_with_its_line_number(string script, string expected)
    {
        var (code, output, err) = CliRunner.RunWithStdin(script, "directmap", "--ram", "1G");

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("--arch", "sparc", "--arch: 'sparc' is not one of x86_64, x86_64-invlpgb, arm64, arm64-bbml2")]
    [InlineData("--ram", "12Q", "--ram: '12Q' is not a size from 16 MiB to 4 TiB")]
    [InlineData("--ram", "1M", "--ram: '1M' is not a size from 16 MiB")]
    [InlineData("--gbpages", "maybe", "--gbpages: 'maybe' is not one of on, off")]
    [InlineData("--rodata", "full", "--rodata: applies to arm64 profiles only")]
    [InlineData("--e820", "/nonexistent/e820", "--e820: cannot read '/nonexistent/e820'")]
    [InlineData("--bogus", "1", "unknown option --bogus")]
    public void A_bad_option_gives_one_error_naming_it(string option, string value, string expected)
    {
        var (code, output, err) = CliRunner.RunWithStdin("invalid 1\n", "directmap", option, value);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Malformed_host_files_are_refused_with_file_and_line()
    {
        using var e820 = new CliRunner.TempFile("BIOS-e820: [mem 0x0-0x9ffff] usable\nthis is not e820\n");
        using var meminfo = new CliRunner.TempFile("MemTotal: 5 kB\n");

        var (code1, _, err1) = CliRunner.RunWithStdin("", "directmap", "--e820", e820.Path, "--script", "/dev/null");
        var (code2, _, err2) = CliRunner.RunWithStdin("", "directmap", "--meminfo", meminfo.Path, "--script", "/dev/null");
        var (code3, _, err3) = CliRunner.RunWithStdin("", "directmap", "--ram", "1G", "--meminfo", meminfo.Path);

        Assert.Equal(2, code1);
        Assert.Contains($"{e820.Path}:2: not an e820 line", err1, StringComparison.Ordinal);
        Assert.Equal(2, code2);
        Assert.Contains("needs 'DirectMap4k: N kB'", err2, StringComparison.Ordinal);
        Assert.Equal(2, code3);
        Assert.Contains("--ram and --meminfo cannot be combined", err3, StringComparison.Ordinal);
    }

    [Fact]
    public void Arm64_profiles_are_selectable()
    {
        var pteOnly = CliRunner.RunWithStdin("invalid 5\n", "directmap", "--ram", "1G", "--arch", "arm64", "--json");
        var noSet = CliRunner.RunWithStdin("invalid 5\naccess 5\n", "directmap", "--ram", "1G", "--arch", "arm64", "--rodata", "off", "--json");

        using JsonDocument a = JsonDocument.Parse(pteOnly.Out);
        Assert.Equal(1048576, a.RootElement.GetProperty("after").GetProperty("DirectMap4k").GetInt64());
        Assert.Equal(0, a.RootElement.GetProperty("direct_map_level2_splits").GetInt64());
        using JsonDocument b = JsonDocument.Parse(noSet.Out);
        Assert.False(b.RootElement.GetProperty("host").GetProperty("can_set_direct_map").GetBoolean());
        Assert.Equal(0, b.RootElement.GetProperty("violations").GetProperty("oops").GetInt64());
    }

    [Fact]
    public void Unknown_commands_and_missing_arguments_exit_2_without_a_stack_trace()
    {
        var (code, _, err) = CliRunner.Run("frobnicate");
        var (code2, _, err2) = CliRunner.Run("directmap", "--ram");

        Assert.Equal((2, 2), (code, code2));
        Assert.Contains("unknown command 'frobnicate'", err, StringComparison.Ordinal);
        Assert.Contains("--ram: missing value", err2, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err + err2, StringComparison.Ordinal);
    }
}
