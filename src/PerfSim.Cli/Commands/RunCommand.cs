using PerfSim.Core;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Scripts;

namespace PerfSim.Cli.Commands;

/// <summary>
/// <c>perfsim run</c>. Until the engine lands it runs a built-in direct-map script: a secretmem
/// user touching 64 scattered pages of a 16 GiB host (one <c>set_direct_map_invalid_noflush</c>
/// each), then releasing them.
/// </summary>
internal static class RunCommand
{
    private const string BuiltInScript = """
        # Four secretmem-style zaps, one page each, 8 MiB apart: each lands in its own 2M region.
        invalid 0x40000
        invalid 0x40800
        invalid 0x41000
        invalid 0x41800
        # ... and a guest_memfd-style pass over a whole 2M-aligned region, one call.
        valid 0x80000 512 0
        valid 0x80000 512 1
        default 0x40000
        default 0x40800
        default 0x41000
        default 0x41800
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        OptionSet options = OptionSet.Parse("run", args, HostOptions.Valued, []);
        HostSpec spec = HostOptions.Read(options, 16 * PageGeometry.GiB);
        IReadOnlyList<ScriptLine> script = DirectMapScript.Parse(BuiltInScript, "built-in", spec.Layout.EndPfn);
        using var host = new DirectMapHost(spec);
        stdout.Write(DirectMapCommand.ToText(DirectMapScriptRunner.Run(host, script)));
        return ExitCodes.Ok;
    }
}
