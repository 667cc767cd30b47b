using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Cli;

/// <summary>The options that describe a host's memory, shared by every command that builds one.</summary>
internal static class HostOptions
{
    public static HostSpec Read(OptionSet options, long defaultRamBytes)
    {
        options.Exclusive("ram", "e820", "meminfo");
        string arch = options.Choice("arch", ArchKinds.CliNames, ArchKind.X86_64.ToCliName());
        bool gbPages = options.OnOff("gbpages", true);
        bool rodataFull = options.Choice("rodata", ["full", "off"], "full") == "full";
        if (!arch.StartsWith("arm64", StringComparison.Ordinal) && options.Has("rodata"))
        {
            throw new InputException("--rodata: applies to arm64 profiles only (x86 can always change its direct map)");
        }

        DirectMapProfile profile = Architectures.Of(ArchKinds.Parse(arch)).DirectMap(gbPages, rodataFull);
        if (options.Has("e820"))
        {
            HostSpec spec = HostSpec.FromE820(arch, profile, options.ReadFile("e820"), options.String("e820")!);
            return CheckSize(spec, "--e820");
        }

        if (options.Has("meminfo"))
        {
            HostSpec spec = HostSpec.FromMeminfo(arch, profile, options.ReadFile("meminfo"), options.String("meminfo")!);
            return CheckSize(spec, "--meminfo");
        }

        long ram = options.Bytes("ram", HostSpec.MinRamBytes, HostInputs.MaxRamBytes, defaultRamBytes);
        if (ram % PageGeometry.PageSize != 0)
        {
            throw new InputException($"--ram: {ram} bytes is not a multiple of 4 KiB");
        }

        return HostSpec.FromSize(arch, profile, ram);
    }

    private static HostSpec CheckSize(HostSpec spec, string option)
    {
        long top = spec.Layout.EndPfn * PageGeometry.PageSize;
        if (spec.Layout.RamBytes < HostSpec.MinRamBytes || top > HostInputs.MaxRamBytes)
        {
            throw new InputException($"{option}: RAM must total at least {Sizes.Format(HostSpec.MinRamBytes)} and end below {Sizes.Format(HostInputs.MaxRamBytes)} (got {Sizes.Format(spec.Layout.RamBytes)} ending at 0x{top:x})");
        }

        return spec;
    }
}
