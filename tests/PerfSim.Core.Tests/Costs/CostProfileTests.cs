using PerfSim.Core.Arch;
using PerfSim.Core.Costs;

namespace PerfSim.Core.Tests.Costs;

public class CostProfileTests
{
    [Theory]
    [InlineData(ArchKind.X86_64)]
    [InlineData(ArchKind.X86_64Invlpgb)]
    [InlineData(ArchKind.Arm64)]
    [InlineData(ArchKind.Arm64Bbml2)]
    public void Defaults_are_the_descriptors_tagged_with_their_kind_and_validate(ArchKind kind)
    {
        CostProfile profile = CostProfile.Default(kind);
        Assert.Same(Architectures.Of(kind).Costs, profile);
        Assert.Equal(kind, profile.Arch);
        profile.Validate();
    }

    [Fact]
    public void Todays_defaults_are_the_same_constants_on_every_architecture()
    {
        // Per-architecture defaults are expressible (each descriptor owns its profile), but none
        // differs yet: a difference here moves simulated figures and needs a baseline decision.
        CostProfile x86 = CostProfile.Default(ArchKind.X86_64);
        foreach (ArchKind kind in Enum.GetValues<ArchKind>())
        {
            Assert.Equal(x86 with { Arch = kind }, CostProfile.Default(kind));
        }
    }

    [Fact]
    public void Validate_rejects_a_negative_value_set_in_code_naming_its_key()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => (CostProfile.Default(ArchKind.X86_64) with { TlbsyncNs = -5 }).Validate());
        Assert.Equal("tlbsync_ns", e.ParamName);
    }

    [Fact]
    public void Every_field_is_listed_once_under_a_snake_case_key()
    {
        // One field per ns property: a property left out of the table could not be set from a file.
        int nsProperties = typeof(CostProfile).GetProperties().Count(p => p.PropertyType == typeof(long) && p.CanWrite && p.Name.EndsWith("Ns", StringComparison.Ordinal));
        Assert.Equal(nsProperties, CostProfile.Fields.Count);
        Assert.Equal(CostProfile.Fields.Count, CostProfile.Fields.Select(f => f.Key).Distinct().Count());
        Assert.All(CostProfile.Fields, f => Assert.Matches("^[a-z][a-z0-9]*(_[a-z0-9]+)*_ns$", f.Key));
        Assert.Contains(CostProfile.Fields, f => f.Key == "clear_page_ns");
    }

    [Fact]
    public void Every_field_reads_and_replaces_its_own_property()
    {
        CostProfile baseline = CostProfile.Default(ArchKind.X86_64);
        foreach (CostField f in CostProfile.Fields)
        {
            CostProfile changed = f.With(baseline, f.Get(baseline) + 1);
            Assert.Equal(f.Get(baseline) + 1, f.Get(changed));
            Assert.All(CostProfile.Fields.Where(g => g != f), g => Assert.Equal(g.Get(baseline), g.Get(changed)));
        }
    }
}
