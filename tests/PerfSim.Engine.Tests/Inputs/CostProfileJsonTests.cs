using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Tests.Inputs;

public class CostProfileJsonTests
{
    [Theory]
    [InlineData(ArchKind.X86_64)]
    [InlineData(ArchKind.X86_64Invlpgb)]
    [InlineData(ArchKind.Arm64)]
    [InlineData(ArchKind.Arm64Bbml2)]
    public void Defaults_round_trip(ArchKind kind)
    {
        CostProfile profile = CostProfile.Default(kind) with { PageWalkNs = 23 };
        Assert.Equal(profile, CostProfileJson.Read(CostProfileJson.Write(profile), "p.json", kind));
    }

    [Fact]
    public void Keys_are_snake_case_and_arch_comes_first()
    {
        string json = CostProfileJson.Write(CostProfile.Default(ArchKind.Arm64));
        Assert.StartsWith("{\n  \"arch\": \"arm64\",\n  \"invlpg_ns\": 98,", json.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"clear_page_ns\": 299", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Ns\"", json, StringComparison.Ordinal);
        Assert.Equal(CostProfile.Fields.Count + 1, CostProfileJson.Keys.Count);
    }

    [Fact]
    public void Overrides_replace_single_fields_over_the_runs_defaults()
    {
        CostProfile p = CostProfileJson.Read("""{ "arch": "arm64", "tlbi_page_ns": 33, "invlpg_ns": 120 }""", "p.json", ArchKind.Arm64);
        Assert.Equal(CostProfile.Default(ArchKind.Arm64) with { TlbiPageNs = 33, InvlpgNs = 120 }, p);
    }

    [Fact]
    public void A_profile_without_arch_is_for_the_runs_arch()
    {
        CostProfile p = CostProfileJson.Read("""{"page_walk_ns": 13}""", "p.json", ArchKind.Arm64Bbml2);
        Assert.Equal(CostProfile.Default(ArchKind.Arm64Bbml2) with { PageWalkNs = 13 }, p);
    }

    [Theory]
    [InlineData("arm64", ArchKind.X86_64)]
    [InlineData("x86_64", ArchKind.Arm64)]
    [InlineData("x86_64-invlpgb", ArchKind.X86_64)]
    [InlineData("arm64-bbml2", ArchKind.Arm64)]
    public void A_profile_for_another_arch_is_refused_naming_file_field_and_accepted(string profileArch, ArchKind runArch)
    {
        var e = Assert.Throws<InputException>(() => CostProfileJson.Read($$"""{"arch": "{{profileArch}}"}""", "costs.json", runArch));
        Assert.Equal(
            $"costs.json: cost profile field 'arch' is {profileArch} but the run is on {runArch.ToCliName()} (accepted: {runArch.ToCliName()}, or no arch field)",
            e.Message);
    }

    [Fact]
    public void CheckArch_refuses_a_profile_read_before_the_arch_changed()
    {
        CostProfile arm = CostProfile.Default(ArchKind.Arm64);
        CostProfileJson.CheckArch(arm, "s.json", ArchKind.Arm64);
        var e = Assert.Throws<InputException>(() => CostProfileJson.CheckArch(arm, "s.json", ArchKind.X86_64));
        Assert.StartsWith("s.json: cost profile field 'arch' is arm64 but the run is on x86_64", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"invlpgNs": 1}""", "unknown field 'invlpgNs' (accepted: arch, invlpg_ns, flush_base_ns,")]
    [InlineData("""{"invlpg_ns": "98"}""", "field 'invlpg_ns' must be an integer number of ns in [0, 1000000], got \"98\"")]
    [InlineData("""{"invlpg_ns": 1.5}""", "field 'invlpg_ns' must be an integer number of ns in [0, 1000000], got 1.5")]
    [InlineData("""{"invlpg_ns": -1}""", "field 'invlpg_ns' must be an integer number of ns in [0, 1000000], got -1")]
    [InlineData("""{"invlpg_ns": 1000001}""", "[0, 1000000], got 1000001")]
    [InlineData("""{"clear_page_ns": 100000001}""", "field 'clear_page_ns' must be an integer number of ns in [0, 100000000]")]
    [InlineData("""{"invlpg_ns": null}""", "got null")]
    [InlineData("""{"arch": "sparc"}""", "field 'arch' must be one of x86_64, x86_64-invlpgb, arm64, arm64-bbml2")]
    [InlineData("""{"arch": 3}""", "field 'arch' must be one of")]
    [InlineData("""[1, 2]""", "the document must be a JSON object")]
    [InlineData("""{"invlpg_ns": """, "not valid JSON")]
    public void Bad_input_is_one_line_naming_the_source_and_field(string json, string expected)
    {
        var e = Assert.Throws<InputException>(() => CostProfileJson.Read(json, "costs.json", ArchKind.X86_64));
        Assert.StartsWith("costs.json: cost profile", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
