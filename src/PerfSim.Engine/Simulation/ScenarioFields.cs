using System.Text.Json;
using System.Text.Json.Nodes;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// Every settable field of a scenario, in one table (<see cref="All"/>) that scenario files, sweep
/// matrices, trace headers, report configs and the command line's options are all made from, so
/// they share one vocabulary (snake_case keys, the same names dashed as options) and give the
/// same one-line errors.
/// </summary>
public static class ScenarioFields
{
    /// <summary>The largest guest or host PerfSim simulates: 4 TiB.</summary>
    public const long MaxBytes = 4 * PageGeometry.TiB;

    private const string GuestBoot = ScenarioNames.GuestBoot;
    private const string Populate = ScenarioNames.Populate;
    private const string Secretmem = ScenarioNames.SecretmemTouch;
    private const string VmChurn = ScenarioNames.VmChurn;
    private const string Snapshot = ScenarioNames.SnapshotRestore;
    private const string TlbFlush2 = ScenarioNames.TlbFlush2;

    /// <summary>Every field, in the order help and files list them.</summary>
    public static IReadOnlyList<ScenarioField> All { get; } =
    [
        ScenarioField.Choice("scenario", ScenarioNames.All, "the workload to simulate (perfsim scenarios describes each)",
            c => c.Scenario, (c, v) => c with { Scenario = v }),
        ScenarioField.Choice("strategy", KernelNames.Strategies, "the NO_DIRECT_MAP design of guest_memfd (none: the direct map is left alone)",
            c => c.Strategy.Name(), (c, v) => c with { Strategy = Parsed<Strategy>(KernelNames.TryParseStrategy(v, out Strategy s), s) })
            with { UsedBy = [GuestBoot, Populate, VmChurn, Snapshot], UnusedNote = "secretmem always removes its pages from the direct map" },
        ScenarioField.Choice("arch", ArchKinds.CliNames, "the architecture: TLB geometry, flush instructions and direct-map profile",
            c => c.Arch.ToCliName(), (c, v) => c with { Arch = Parsed<ArchKind>(ArchKinds.TryParse(v, out ArchKind a), a) }),
        ScenarioField.Integer("cpus", "N", 1, 1024, "host CPUs, all online (idle ones still take IPIs)",
            c => c.Cpus, (c, v) => c with { Cpus = (int)v }),
        ScenarioField.Integer("vcpus", "V", 1, 1024, "vCPUs of each VM (secretmem-touch: the P CPUs that touch the pages; tlb-flush2: the P threads, one per CPU); at most cpus",
            c => c.Vcpus, (c, v) => c with { Vcpus = (int)v })
            with { UsedBy = [GuestBoot, Secretmem, VmChurn, Snapshot, TlbFlush2], DefaultNote = $"min({ScenarioConfig.DefaultVcpus}, cpus)" },
        ScenarioField.Size("ram", 256 * PageGeometry.MiB, MaxBytes, "host RAM (or take it from --e820/--meminfo)",
            c => c.RamBytes, (c, v) => c with { RamBytes = v }),
        ScenarioField.Size("guest_memory", PageGeometry.PageSize, MaxBytes, "G: guest memory of each VM",
            c => c.GuestMemoryBytes, (c, v) => c with { GuestMemoryBytes = v })
            with { UsedBy = [GuestBoot, Populate, VmChurn, Snapshot] },
        ScenarioField.Integer("pages", "N", 1, 1L << 28, "N: secretmem pages",
            c => c.Pages, (c, v) => c with { Pages = v })
            with { UsedBy = [Secretmem] },
        ScenarioField.Integer("passes", "K", 1, 1000, "K: create-touch-close cycles (secretmem-touch) or churn cycles (vm-churn)",
            c => c.Passes, (c, v) => c with { Passes = (int)v })
            with { UsedBy = [Secretmem, VmChurn] },
        ScenarioField.Integer("loops", "K", 1, 1L << 24, "K: loops of each thread (tlb-flush2): write a page, madvise(MADV_DONTNEED) it, read it",
            c => c.Loops, (c, v) => c with { Loops = v })
            with { UsedBy = [TlbFlush2] },
        ScenarioField.Integer("seed", "S", 0, long.MaxValue, "root of every random choice: where vCPUs jump, background accesses, which holes vm-churn punches (snapshot-restore: background accesses only; its vCPUs touch pages the restore already populated)",
            c => c.Seed, (c, v) => c with { Seed = v })
            with { UsedBy = [GuestBoot, VmChurn, Snapshot], UnusedNote = "nothing in it is random: pages are created, touched and populated in order" },
        ScenarioField.Integer("threads", "T", 1, 256, "host threads that run the simulation; results do not depend on it",
            c => c.Threads, (c, v) => c with { Threads = (int)v })
            with { DefaultNote = "the machine's CPU count" },
        ScenarioField.Choice("populate", KernelNames.PopulationPaths, "how the VMM populates guest memory before the guest boots",
            c => c.Populate.Name(), (c, v) => c with { Populate = Parsed<PopulationPath>(KernelNames.TryParsePopulationPath(v, out PopulationPath p), p) })
            with { UsedBy = [GuestBoot, VmChurn] },
        ScenarioField.Fraction("populate_fraction", "share of guest memory the VMM populates before the guest boots",
            c => c.PopulateFraction, (c, v) => c with { PopulateFraction = v })
            with { UsedBy = [GuestBoot, VmChurn] },
        ScenarioField.OneOf("folio_order", [0, 9], "order of guest_memfd folios: 0 (4 KiB) or 9 (2 MiB)",
            c => c.FolioOrder, (c, v) => c with { FolioOrder = (int)v })
            with { UsedBy = [GuestBoot, Populate, VmChurn, Snapshot] },
        ScenarioField.Integer("vms", "N", 1, 1024, "VMs created, populated, ballooned and destroyed per churn cycle",
            c => c.Vms, (c, v) => c with { Vms = (int)v })
            with { UsedBy = [VmChurn] },
        ScenarioField.Integer("background_accesses", "N", 0, 1000, "random kernel direct-map reads per fault on the faulting CPU (fills TLBs with 2M/1G entries)",
            c => c.BackgroundAccesses, (c, v) => c with { BackgroundAccesses = (int)v })
            with { UsedBy = [GuestBoot, VmChurn, Snapshot] },
        ScenarioField.Integer("quantum_ns", "NS", 1000, 10_000_000, "simulated ns CPUs run apart before their shared effects are woven in time order (part of the model)",
            c => c.QuantumNs, (c, v) => c with { QuantumNs = v }),
        ScenarioField.Fraction("jump_probability", "probability that a vCPU jumps to a random page of its slice instead of the next one",
            c => c.JumpProbability, (c, v) => c with { JumpProbability = v })
            with { UsedBy = [GuestBoot, VmChurn, Snapshot] },
        ScenarioField.Integer("think_ns", "NS", 0, 100_000_000, "mean guest time between a vCPU's faults, exponential (0: a fault storm)",
            c => c.ThinkNs, (c, v) => c with { ThinkNs = v })
            with { UsedBy = [GuestBoot, VmChurn, Snapshot] },
        ScenarioField.Choice("idle", ["intel_idle", "poll", "haltpoll"], "the host's idle loop on CPUs nothing runs on: intel_idle (menu governor, Skylake-SP C-states), idle=poll, haltpoll",
            c => c.Idle switch { IdlePolicy.Poll => "poll", IdlePolicy.Haltpoll => "haltpoll", _ => "intel_idle" },
            (c, v) => c with { Idle = v switch { "poll" => IdlePolicy.Poll, "haltpoll" => IdlePolicy.Haltpoll, _ => IdlePolicy.IntelIdle } }),
        ScenarioField.Choice("x2apic", ["cluster", "physical"], "x86: how one IPI round reaches many CPUs: an ICR write per 16-CPU cluster (the kernel's default) or per CPU",
            c => c.X2Apic == X2ApicMode.Physical ? "physical" : "cluster",
            (c, v) => c with { X2Apic = v == "physical" ? X2ApicMode.Physical : X2ApicMode.Cluster }),
        ScenarioField.Integer("busy_cpus", "N", 0, 1024, "CPUs busy with host work (VMM threads, other load) besides the simulated actors; the rest idle",
            c => c.BusyCpus, (c, v) => c with { BusyCpus = (int)v }),
        ScenarioField.OnOff("spread_vcpus", "spread vCPUs over the host's CPUs instead of pinning them to the first ones",
            c => c.SpreadVcpus, (c, v) => c with { SpreadVcpus = v })
            with { UsedBy = [GuestBoot, VmChurn, Snapshot] },
        ScenarioField.OnOff("gbpages", "x86: map the direct map with 1 GiB pages where it can",
            c => c.GbPages, (c, v) => c with { GbPages = v }),
        ScenarioField.Choice("rodata", ["full", "off"], "arm64: rodata=full (PTE-only linear map, can_set_direct_map() true) or off",
            c => c.RodataFull ? "full" : "off", (c, v) => c with { RodataFull = v == "full" }),
        ScenarioField.Parsed<ZapFlushPolicy>("flush_policy", "every|batch:N|none", ZapFlushPolicy.Accepts,
            "per-folio designs, x86: flush each zap (every, the series since v8), one flush per N zaps of a CPU (batch:N), or never (none, v5)",
            ZapFlushPolicy.TryParse, p => p.Name, c => c.FlushPolicy, (c, v) => c with { FlushPolicy = v })
            with { UsedBy = [GuestBoot, Populate, VmChurn, Snapshot], UnusedNote = "secretmem flushes each page, whatever the policy" },
        ScenarioField.OnOff("stage2_fwb", "arm64: the CPUs have FEAT_S2FWB (ARM64_HAS_STAGE2_FWB); without it guest_memfd refuses NO_DIRECT_MAP",
            c => c.Stage2Fwb, (c, v) => c with { Stage2Fwb = v })
            with { UsedBy = [GuestBoot, Populate, VmChurn, Snapshot], UnusedNote = "only guest_memfd needs it" },
    ];

    /// <summary>The field keys (snake_case), in table order.</summary>
    public static IReadOnlyList<string> Keys { get; } = [.. All.Select(f => f.Key)];

    /// <summary>The same names as options (kebab-case), in table order.</summary>
    public static IReadOnlyList<string> OptionNames { get; } = [.. All.Select(f => f.OptionName)];

    /// <summary>The field named <paramref name="name"/>, as a key (<c>guest_memory</c>) or an option
    /// name (<c>guest-memory</c>); null when there is none.</summary>
    public static ScenarioField? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Replace('-', '_');
        return All.FirstOrDefault(f => f.Key == key);
    }

    /// <summary>Sets field <paramref name="key"/> (snake_case or dashed) from text; <paramref name="where"/>
    /// names the source for errors (e.g. <c>--cpus</c> or <c>scenario.json: $.cpus</c>).</summary>
    public static ScenarioConfig Set(ScenarioConfig config, string key, string value, string where)
    {
        ArgumentNullException.ThrowIfNull(config);
        ScenarioField field = Find(key) ?? throw new InputException($"{where}: unknown field; accepted: {string.Join(", ", Keys)}");
        return field.Set(config, value, where);
    }

    /// <summary>Applies a scenario file: a JSON object whose keys are field names (snake_case or
    /// dashed), values strings or numbers (sizes as "16G" or bytes), plus optional
    /// <c>cost_profile</c>: an object in the cost-profile format.</summary>
    public static ScenarioConfig ApplyJson(ScenarioConfig config, string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InputException($"{source}: not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}): expected an object of scenario fields");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InputException($"{source}: $: expected a JSON object of scenario fields");
            }

            JsonProperty? costs = null;
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                string key = p.Name.Replace('-', '_');
                string where = $"{source}: $.{p.Name}";
                if (key == CostProfileKey)
                {
                    costs = p; // read once the file's arch is known, wherever it stands
                    continue;
                }

                ScenarioField field = Find(key) ?? throw new InputException($"{where}: unknown field; accepted: {string.Join(", ", Keys)}, cost_profile");

                string value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.True => "on",
                    JsonValueKind.False => "off",
                    _ => throw new InputException($"{where}: found {p.Value.ValueKind.ToString().ToLowerInvariant()}, expected {field.Accepts}"),
                };
                config = field.Set(config, value, where);
            }

            if (costs is JsonProperty c)
            {
                config = config with { Costs = CostProfileJson.Read(c.Value.GetRawText(), $"{source}: $.{c.Name}", config.Arch) };
            }
        }

        return config;
    }

    /// <summary>The key of the optional cost profile in scenario files and report configs.</summary>
    public const string CostProfileKey = "cost_profile";

    /// <summary>The configuration as a scenario file that <see cref="ApplyJson"/> reads back to an
    /// equal configuration: every field, and the cost profile when one was given (binary traces
    /// keep it in their header).</summary>
    public static string ToJson(ScenarioConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        JsonObject json = Fields(c, onlyUsed: false);
        if (c.Costs is not null)
        {
            json[CostProfileKey] = JsonNode.Parse(CostProfileJson.Write(c.Costs));
        }

        return json.ToJsonString();
    }

    /// <summary>The fields of <paramref name="c"/> as a JSON object in table order; with
    /// <paramref name="onlyUsed"/>, only those its scenario uses (a report's config).</summary>
    public static JsonObject Fields(ScenarioConfig c, bool onlyUsed)
    {
        ArgumentNullException.ThrowIfNull(c);
        var json = new JsonObject();
        foreach (ScenarioField field in All.Where(f => !onlyUsed || f.AppliesTo(c.Scenario)))
        {
            json[field.Key] = field.Get(c);
        }

        return json;
    }

    /// <summary>Cross-field checks, after every source was applied.</summary>
    public static ScenarioConfig Validate(ScenarioConfig c, string where)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Vcpus > c.Cpus)
        {
            throw new InputException($"{where}: vcpus ({c.Vcpus}) must be at most cpus ({c.Cpus})");
        }

        if (c.BusyCpus > c.Cpus)
        {
            throw new InputException($"{where}: busy_cpus ({c.BusyCpus}) must be at most cpus ({c.Cpus})");
        }

        if (c.GuestMemoryBytes % PageGeometry.PageSize != 0 || c.RamBytes % PageGeometry.PageSize != 0)
        {
            throw new InputException($"{where}: ram and guest_memory must be multiples of 4 KiB");
        }

        long folioBytes = PageGeometry.PageSize << c.FolioOrder;
        if (c.GuestMemoryBytes % (folioBytes * c.Vcpus) != 0 && c.Scenario == ScenarioNames.GuestBoot)
        {
            throw new InputException($"{where}: guest_memory must split evenly into vcpus slices of whole folios ({Sizes.Format(folioBytes)} each)");
        }

        if (c.Arch.IsX86() && !c.RodataFull)
        {
            throw new InputException($"{where}: rodata applies to arm64 profiles only");
        }

        if (!c.Stage2Fwb && c.Arch.IsX86())
        {
            throw new InputException($"{where}: stage2_fwb applies to arm64 profiles only");
        }

        if (!c.Stage2Fwb && Designs.For(c.Strategy).RemovesDirectMap && Find("strategy")!.AppliesTo(c.Scenario))
        {
            throw new InputException($"{where}: strategy {c.Strategy.Name()} needs guest_memfd NO_DIRECT_MAP, which arm64 refuses without FEAT_S2FWB (stage2_fwb off); set strategy to none or stage2_fwb to on");
        }

        if (c.FlushPolicy.Kind != ZapFlushKind.Every && !Designs.For(c.Strategy).TakesFlushPolicy)
        {
            throw new InputException($"{where}: flush_policy {c.FlushPolicy.Name} applies to the per-folio designs (per-folio, per-folio-v12), not {c.Strategy.Name()}");
        }

        if (c.FlushPolicy.Kind != ZapFlushKind.Every && !c.Arch.IsX86())
        {
            throw new InputException($"{where}: flush_policy {c.FlushPolicy.Name} applies to x86 only: arm64 flushes inside set_direct_map_valid_noflush");
        }

        if (c.Costs is not null)
        {
            CostProfileJson.CheckArch(c.Costs, $"{where}: cost_profile", c.Arch);
        }

        return c;
    }

    // The table checks the name first, so a failed parse here is a table bug, not bad input.
    private static T Parsed<T>(bool ok, T value) => ok ? value : throw new InvalidOperationException("a listed name did not parse");
}
