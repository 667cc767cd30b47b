using System.Globalization;
using System.Text;
using System.Text.Json;
using PerfSim.Core;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Inputs;
using PerfSim.Engine.Scripts;
using PerfSim.Reporting.Input;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim directmap</c>: what does this sequence of operations do to my direct map?</summary>
internal static class DirectMapCommand
{
    /// <summary>The host's RAM when neither --ram nor a host file is given.</summary>
    public const long DefaultRamBytes = 16 * PageGeometry.GiB;

    public static int Run(OptionSet options, TextReader stdin, bool stdinIsTerminal, TextWriter stdout)
    {
        HostSpec spec = HostOptions.Read(options, DefaultRamBytes);
        bool json = options.Has("json");
        string source;
        string text;
        if (options.Has("script"))
        {
            source = Reporting.Input.InputFiles.NameOf(options.String("script")!);
            text = options.ReadFile("script");
        }
        else if (stdinIsTerminal)
        {
            throw new InputException("perfsim directmap: give --script FILE or a script on standard input (" + DirectMapScript.Syntax + ")");
        }
        else
        {
            source = Reporting.Input.InputFiles.StandardInputName;
            text = InputFile.Read("-", "script");
        }

        IReadOnlyList<ScriptLine> script = DirectMapScript.Parse(text, source, spec.Layout.EndPfn);
        DirectMapScriptResult result;
        using (var host = new DirectMapHost(spec))
        {
            result = DirectMapScriptRunner.Run(host, script);
        }

        stdout.Write(json ? ToJson(result) : ToText(result));
        return result.Oops + result.LatentCrashes > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }

    public static string ToText(DirectMapScriptResult r)
    {
        var sb = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        HostSpec h = r.Host;
        sb.AppendLine(inv, $"perfsim directmap: {h.Arch} ({h.ProfileLabel}), RAM {Sizes.Format(h.Layout.RamBytes)}{(h.RamSource == HostSpec.SizeSource ? "" : " from " + h.RamSource)}, max_pfn 0x{r.MaxPfn:x}");
        sb.AppendLine(inv, $"{"",-28}{"before",16}{"after",16}");
        Line("DirectMap4k", r.Before.DirectMap4k, r.After.DirectMap4k);
        Line("DirectMap2M", r.Before.DirectMap2M, r.After.DirectMap2M);
        if (h.Profile.GbPages)
        {
            Line("DirectMap1G", r.Before.DirectMap1G, r.After.DirectMap1G);
        }

        Count("direct_map_level2_splits", r.Level2Splits);
        Count("direct_map_level3_splits", r.Level3Splits);
        Count("page-table pages allocated", r.PageTablePages);
        Count("global flushes (flush_tlb_all)", r.GlobalFlushes);
        Count("range flushes", r.RangeFlushes);
        if (h.Profile.IsArm64)
        {
            Count("contiguous groups broken", r.ContBreaks);
        }

        Count("primitive calls", r.PrimitiveCalls);
        Count("hole pages skipped", r.HolePages);
        foreach (ScriptError e in r.Errors)
        {
            sb.AppendLine(inv, $"error: line {e.Line}: {e.Op.ToString().ToLowerInvariant()} at pfn 0x{e.Pfn:x} returned {Errno.Name(e.Errno)} (pages changed before it stay changed)");
        }

        if (r.Oops + r.LatentCrashes == 0)
        {
            sb.AppendLine("invariant violations: none");
        }
        else
        {
            sb.AppendLine(inv, $"invariant violations: {r.Oops} oops, {r.LatentCrashes} latent crashes");
            foreach (var v in r.Violations)
            {
                sb.AppendLine(inv, $"  {v}");
            }
        }

        return sb.ToString();

        void Line(string name, long before, long after) => sb.AppendLine(inv, $"{name + ":",-28}{before,13} kB{after,13} kB");
        void Count(string name, long value) => sb.AppendLine(inv, $"{name + ":",-32}{value,12}");
    }

    public static string ToJson(DirectMapScriptResult r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("schema", "perfsim.directmap/1");
            w.WriteStartObject("host");
            w.WriteString("arch", r.Host.Arch);
            w.WriteString("mode", r.Host.Profile.Mode.ToString());
            w.WriteBoolean("gbpages", r.Host.Profile.GbPages);
            w.WriteBoolean("can_set_direct_map", r.Host.Profile.CanSetDirectMap);
            w.WriteNumber("ram_bytes", r.Host.Layout.RamBytes);
            w.WriteNumber("max_pfn", r.MaxPfn);
            w.WriteString("ram_source", r.Host.RamSource);
            w.WriteEndObject();
            Counts("before", r.Before);
            Counts("after", r.After);
            w.WriteNumber("direct_map_level2_splits", r.Level2Splits);
            w.WriteNumber("direct_map_level3_splits", r.Level3Splits);
            w.WriteNumber("pt_pages", r.PageTablePages);
            w.WriteNumber("flush_all", r.GlobalFlushes);
            w.WriteNumber("flush_kernel_range", r.RangeFlushes);
            w.WriteNumber("cont_breaks", r.ContBreaks);
            w.WriteNumber("primitive_calls", r.PrimitiveCalls);
            w.WriteNumber("hole_pages", r.HolePages);
            w.WriteStartArray("errors");
            foreach (ScriptError e in r.Errors)
            {
                w.WriteStartObject();
                w.WriteNumber("line", e.Line);
                w.WriteString("op", e.Op.ToString().ToLowerInvariant());
                w.WriteNumber("pfn", e.Pfn);
                w.WriteString("errno", Errno.Name(e.Errno));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("violations");
            w.WriteNumber("oops", r.Oops);
            w.WriteNumber("latent_crash", r.LatentCrashes);
            w.WriteStartArray("recorded");
            foreach (var v in r.Violations)
            {
                w.WriteStringValue(v.ToString());
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();

            void Counts(string name, DirectMapCounts c)
            {
                w.WriteStartObject(name);
                w.WriteNumber("DirectMap4k", c.DirectMap4k);
                w.WriteNumber("DirectMap2M", c.DirectMap2M);
                w.WriteNumber("DirectMap1G", c.DirectMap1G);
                w.WriteEndObject();
            }
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + Environment.NewLine;
    }
}
