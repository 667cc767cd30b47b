using System.Text;
using PerfSim.Core.Costs;

namespace PerfSim.Core.Tests.Costs;

public class CostProfileTests
{
    [Theory]
    [InlineData(ArchKind.X86_64)]
    [InlineData(ArchKind.X86_64Invlpgb)]
    [InlineData(ArchKind.Arm64)]
    [InlineData(ArchKind.Arm64Bbml2)]
    public void Defaults_validate_and_round_trip_through_json(ArchKind kind)
    {
        CostProfile profile = CostProfile.Default(kind);
        profile.Validate();
        Assert.Equal(profile, CostProfile.FromJson(profile.ToJson()));
    }

    [Fact]
    public void Json_overrides_single_fields_and_keeps_the_arch_defaults()
    {
        CostProfile p = CostProfile.FromJson("""{ "arch": "arm64", "tlbiPageNs": 33, "invlpgNs": 120 }""");
        Assert.Equal(ArchKind.Arm64, p.Arch);
        Assert.Equal(33, p.TlbiPageNs);
        Assert.Equal(120, p.InvlpgNs);
        Assert.Equal(CostProfile.Default(ArchKind.Arm64).TlbiSyncNs, p.TlbiSyncNs);
    }

    [Fact]
    public void Json_from_a_stream_is_parsed()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("""{"pageWalkNs": 13}"""));
        CostProfile p = CostProfile.FromJson(stream);
        Assert.Equal(13, p.PageWalkNs);
        Assert.Equal(ArchKind.X86_64, p.Arch);
    }

    [Fact]
    public void Unknown_key_is_rejected_naming_the_key()
    {
        var e = Assert.Throws<CostProfileFormatException>(() => CostProfile.FromJson("""{"invlpgNS": 1}"""));
        Assert.Equal("invlpgNS", e.Field);
        Assert.Contains("unknown field 'invlpgNS'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"invlpgNs": "98"}""")]
    [InlineData("""{"invlpgNs": 1.5}""")]
    [InlineData("""{"invlpgNs": -1}""")]
    [InlineData("""{"invlpgNs": 1000001}""")]
    [InlineData("""{"invlpgNs": null}""")]
    public void Wrong_type_or_out_of_range_value_names_the_field_and_the_range(string json)
    {
        var e = Assert.Throws<CostProfileFormatException>(() => CostProfile.FromJson(json));
        Assert.Equal("invlpgNs", e.Field);
        Assert.Contains("'invlpgNs'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 1000000]", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"arch": "sparc"}""", "arch")]
    [InlineData("""[1, 2]""", "(document)")]
    [InlineData("""{"invlpgNs": """, "(document)")]
    public void Bad_arch_or_document_is_rejected(string json, string field)
    {
        var e = Assert.Throws<CostProfileFormatException>(() => CostProfile.FromJson(json));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Validate_rejects_a_negative_value_set_in_code()
    {
        var e = Assert.Throws<CostProfileFormatException>(() => (CostProfile.Default(ArchKind.X86_64) with { TlbsyncNs = -5 }).Validate());
        Assert.Equal("tlbsyncNs", e.Field);
    }

    [Fact]
    public void Every_field_is_listed_once()
    {
        Assert.Equal(28, CostProfile.FieldNames.Count);
        Assert.Equal(CostProfile.FieldNames.Count, CostProfile.FieldNames.Distinct().Count());
    }
}

public class ArchKindTests
{
    [Theory]
    [InlineData("x86_64", ArchKind.X86_64)]
    [InlineData("x86-64", ArchKind.X86_64)]
    [InlineData("x86_64-invlpgb", ArchKind.X86_64Invlpgb)]
    [InlineData("ARM64", ArchKind.Arm64)]
    [InlineData("arm64-bbml2", ArchKind.Arm64Bbml2)]
    public void Cli_names_parse(string name, ArchKind expected) => Assert.Equal(expected, ArchKinds.Parse(name));

    [Fact]
    public void Every_kind_round_trips_through_its_cli_name()
    {
        foreach (ArchKind kind in Enum.GetValues<ArchKind>())
        {
            Assert.Equal(kind, ArchKinds.Parse(kind.ToCliName()));
        }
    }

    [Fact]
    public void Unknown_name_lists_the_accepted_ones()
    {
        var e = Assert.Throws<FormatException>(() => ArchKinds.Parse("riscv"));
        Assert.Contains("x86_64-invlpgb", e.Message, StringComparison.Ordinal);
        Assert.False(ArchKinds.TryParse(null, out _));
    }

    [Fact]
    public void Default_arch_profiles_have_the_kernel_thresholds()
    {
        Assert.Equal(33, ArchProfile.For(ArchKind.X86_64).SinglePageFlushCeiling);
        Assert.False(ArchProfile.For(ArchKind.Arm64).HasTlbiRange);
        Assert.True(ArchProfile.For(ArchKind.Arm64Bbml2).HasTlbiRange);
        Assert.Equal(512, ArchProfile.For(ArchKind.Arm64).MaxDvmOps);
        Assert.Equal(2_097_152, ArchProfile.For(ArchKind.Arm64Bbml2).MaxTlbiRangePages);
        foreach (ArchKind kind in Enum.GetValues<ArchKind>())
        {
            ArchProfile.For(kind).Validate();
        }
    }
}
