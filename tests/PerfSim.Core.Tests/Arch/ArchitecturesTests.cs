using PerfSim.Core.Arch;
using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Arch;

public class ArchitecturesTests
{
    [Fact]
    public void The_registry_has_one_descriptor_per_kind_at_its_index()
    {
        ArchKind[] kinds = Enum.GetValues<ArchKind>();
        Assert.Equal(kinds.Length, Architectures.All.Count);
        foreach (ArchKind kind in kinds)
        {
            Assert.Equal(kind, Architectures.Of(kind).Kind);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Architectures.Of((ArchKind)99));
    }

    [Fact]
    public void A_misordered_or_incomplete_registry_is_refused_at_start_up()
    {
        ArchDescriptor[] swapped = [X86_64InvlpgbArch.Instance, X86_64Arch.Instance, Arm64Arch.Instance, Arm64Bbml2Arch.Instance];
        Assert.Throws<InvalidOperationException>(() => Architectures.InEnumOrder(swapped));
        Assert.Throws<InvalidOperationException>(() => Architectures.InEnumOrder([X86_64Arch.Instance]));
        Assert.Equal(4, Architectures.InEnumOrder([.. Architectures.All]).Length);
    }

    [Theory]
    [InlineData(ArchKind.X86_64, "x86_64", ArchFamily.X86)]
    [InlineData(ArchKind.X86_64Invlpgb, "x86_64-invlpgb", ArchFamily.X86)]
    [InlineData(ArchKind.Arm64, "arm64", ArchFamily.Arm64)]
    [InlineData(ArchKind.Arm64Bbml2, "arm64-bbml2", ArchFamily.Arm64)]
    public void Each_descriptor_has_its_name_and_family(ArchKind kind, string name, ArchFamily family)
    {
        ArchDescriptor arch = Architectures.Of(kind);
        Assert.Equal((name, family), (arch.Name, arch.Family));
        Assert.Equal(name, kind.ToCliName());
        Assert.Equal(family == ArchFamily.X86, kind.IsX86());
    }

    [Fact]
    public void Each_descriptor_carries_its_tlb_and_flush_model()
    {
        Assert.Same(TlbGeometry.SkylakeSp, Architectures.Of(ArchKind.X86_64).Tlb);
        Assert.Same(TlbGeometry.AmdZen3, Architectures.Of(ArchKind.X86_64Invlpgb).Tlb);
        Assert.Same(TlbGeometry.NeoverseN1, Architectures.Of(ArchKind.Arm64).Tlb);
        Assert.Same(TlbGeometry.NeoverseN1, Architectures.Of(ArchKind.Arm64Bbml2).Tlb);
        Assert.Equal(new X86IpiFlush(), Architectures.Of(ArchKind.X86_64).Flush);
        Assert.Equal(new X86InvlpgbFlush(), Architectures.Of(ArchKind.X86_64Invlpgb).Flush);
        Assert.Equal(new Arm64TlbiFlush { HasTlbiRange = false }, Architectures.Of(ArchKind.Arm64).Flush);
        Assert.Equal(new Arm64TlbiFlush { HasTlbiRange = true }, Architectures.Of(ArchKind.Arm64Bbml2).Flush);
        foreach (ArchDescriptor arch in Architectures.All)
        {
            ArchProfile profile = ArchProfile.For(arch.Kind);
            Assert.Equal((arch.Kind, arch.Tlb, arch.Flush), (profile.Kind, profile.Geometry, profile.Flush));
            profile.Validate();
        }
    }

    [Fact]
    public void Default_flush_models_have_the_kernel_thresholds()
    {
        Assert.Equal(33, new X86IpiFlush().SinglePageFlushCeiling);
        Assert.Equal(33, new X86InvlpgbFlush().SinglePageFlushCeiling);
        Assert.Equal(8, new X86InvlpgbFlush().InvlpgbCountMax);
        Assert.Equal(512, new Arm64TlbiFlush { HasTlbiRange = false }.MaxDvmOps);
        Assert.Equal(2_097_152, new Arm64TlbiFlush { HasTlbiRange = true }.MaxTlbiRangePages);
    }

    [Theory]
    [InlineData(ArchKind.X86_64, true, true, DirectMapMode.X86, true, true)]
    [InlineData(ArchKind.X86_64, false, true, DirectMapMode.X86, false, true)]
    [InlineData(ArchKind.X86_64Invlpgb, false, true, DirectMapMode.X86, false, true)]
    [InlineData(ArchKind.Arm64, true, true, DirectMapMode.Arm64PteOnly, true, true)]
    [InlineData(ArchKind.Arm64, false, true, DirectMapMode.Arm64PteOnly, true, true)]
    [InlineData(ArchKind.Arm64, false, false, DirectMapMode.Arm64Bbml2, false, false)]
    [InlineData(ArchKind.Arm64Bbml2, true, true, DirectMapMode.Arm64Bbml2, true, true)]
    [InlineData(ArchKind.Arm64Bbml2, false, true, DirectMapMode.Arm64Bbml2, false, true)]
    [InlineData(ArchKind.Arm64Bbml2, true, false, DirectMapMode.Arm64Bbml2, true, false)]
    public void Each_descriptor_maps_its_direct_map(ArchKind kind, bool gbPages, bool rodataFull, DirectMapMode mode, bool gb, bool canSet) =>
        Assert.Equal(new DirectMapProfile(mode, gb, canSet), Architectures.Of(kind).DirectMap(gbPages, rodataFull));

    [Theory]
    [InlineData(ArchKind.X86_64, true, true, "gbpages on")]
    [InlineData(ArchKind.X86_64Invlpgb, false, true, "gbpages off")]
    [InlineData(ArchKind.Arm64, true, true, "rodata=full, PTE-only linear map")]
    [InlineData(ArchKind.Arm64, true, false, ArchDescriptor.CannotSetDirectMapLabel)]
    [InlineData(ArchKind.Arm64Bbml2, true, true, "BBML2, block-mapped linear map")]
    [InlineData(ArchKind.Arm64Bbml2, true, false, ArchDescriptor.CannotSetDirectMapLabel)]
    public void Each_descriptor_labels_its_direct_map(ArchKind kind, bool gbPages, bool rodataFull, string label)
    {
        ArchDescriptor arch = Architectures.Of(kind);
        Assert.Equal(label, arch.Label(arch.DirectMap(gbPages, rodataFull)));
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
        Assert.Equal(["x86_64", "x86_64-invlpgb", "arm64", "arm64-bbml2"], ArchKinds.CliNames);
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
}
