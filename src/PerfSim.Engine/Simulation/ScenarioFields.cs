using System.Globalization;
using System.Text.Json;
using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Kernel;
using PerfSim.Engine.Inputs;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// Every settable field of a scenario: its JSON key (the CLI option is the same name with dashes),
/// what it accepts, and how it applies. One table serves scenario files and command-line options,
/// so both give the same one-line errors.
/// </summary>
public static class ScenarioFields
{
    /// <summary>The largest guest or host PerfSim simulates: 4 TiB.</summary>
    public const long MaxBytes = 4 * PageGeometry.TiB;

    private delegate ScenarioConfig Apply(ScenarioConfig c, string value, string where);

    private static readonly (string Key, string Accepts, Apply Apply)[] s_fields =
    [
        ("scenario", Choices(ScenarioNames.All), (c, v, w) => c with { Scenario = Choice(v, ScenarioNames.All, w) }),
        ("strategy", Choices(KernelNames.Strategies), (c, v, w) => c with { Strategy = KernelNames.TryParseStrategy(v, out Strategy s) ? s : throw Bad(w, v, Choices(KernelNames.Strategies)) }),
        ("arch", Choices(ArchKinds.CliNames), (c, v, w) => c with { Arch = ArchKinds.TryParse(v, out ArchKind a) ? a : throw Bad(w, v, Choices(ArchKinds.CliNames)) }),
        ("cpus", "an integer from 1 to 1024", (c, v, w) => c with { Cpus = (int)Integer(v, 1, 1024, w) }),
        ("vcpus", "an integer from 1 to 1024 (at most cpus)", (c, v, w) => c with { Vcpus = (int)Integer(v, 1, 1024, w) }),
        ("ram", "a size from 256 MiB to 4 TiB", (c, v, w) => c with { RamBytes = Bytes(v, 256 * PageGeometry.MiB, MaxBytes, w) }),
        ("guest-memory", "a size from 4 KiB to 4 TiB", (c, v, w) => c with { GuestMemoryBytes = Bytes(v, PageGeometry.PageSize, MaxBytes, w) }),
        ("pages", "an integer from 1 to 268435456", (c, v, w) => c with { Pages = Integer(v, 1, 1L << 28, w) }),
        ("passes", "an integer from 1 to 1000", (c, v, w) => c with { Passes = (int)Integer(v, 1, 1000, w) }),
        ("seed", "an integer from 0 to 9223372036854775807", (c, v, w) => c with { Seed = Integer(v, 0, long.MaxValue, w) }),
        ("threads", "an integer from 1 to 256", (c, v, w) => c with { Threads = (int)Integer(v, 1, 256, w) }),
        ("populate", Choices(KernelNames.PopulationPaths), (c, v, w) => c with { Populate = KernelNames.TryParsePopulationPath(v, out PopulationPath p) ? p : throw Bad(w, v, Choices(KernelNames.PopulationPaths)) }),
        ("populate-fraction", "a number from 0 to 1", (c, v, w) => c with { PopulateFraction = Fraction(v, w) }),
        ("folio-order", "0 or 9", (c, v, w) => c with { FolioOrder = (int)Integer(v, 0, 9, w) is var o && o is 0 or 9 ? o : throw Bad(w, v, "0 or 9") }),
        ("vms", "an integer from 1 to 1024", (c, v, w) => c with { Vms = (int)Integer(v, 1, 1024, w) }),
        ("background-accesses", "an integer from 0 to 1000", (c, v, w) => c with { BackgroundAccesses = (int)Integer(v, 0, 1000, w) }),
        ("quantum-ns", "an integer from 1000 to 10000000", (c, v, w) => c with { QuantumNs = Integer(v, 1000, 10_000_000, w) }),
        ("jump-probability", "a number from 0 to 1", (c, v, w) => c with { JumpProbability = Fraction(v, w) }),
        ("gbpages", "on or off", (c, v, w) => c with { GbPages = Choice(v, ["on", "off"], w) == "on" }),
        ("rodata", "full or off", (c, v, w) => c with { RodataFull = Choice(v, ["full", "off"], w) == "full" }),
    ];

    /// <summary>The option names (without dashes) that set scenario fields.</summary>
    public static IReadOnlyList<string> Keys { get; } = [.. s_fields.Select(f => f.Key)];

    /// <summary>Sets field <paramref name="key"/> from text; <paramref name="where"/> names the
    /// source for errors (e.g. <c>--cpus</c> or <c>scenario.json: $.cpus</c>).</summary>
    public static ScenarioConfig Set(ScenarioConfig config, string key, string value, string where)
    {
        ArgumentNullException.ThrowIfNull(config);
        int i = Array.FindIndex(s_fields, f => f.Key == key);
        if (i < 0)
        {
            throw new InputException($"{where}: unknown field; accepted: {string.Join(", ", Keys)}");
        }

        return s_fields[i].Apply(config, value, where);
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
                string key = p.Name.Replace('_', '-');
                string where = $"{source}: $.{p.Name}";
                if (key == "cost-profile")
                {
                    costs = p; // read once the file's arch is known, wherever it stands
                    continue;
                }

                int i = Array.FindIndex(s_fields, f => f.Key == key);
                if (i < 0)
                {
                    throw new InputException($"{where}: unknown field; accepted: {string.Join(", ", Keys.Select(k => k.Replace('-', '_')))}, cost_profile");
                }

                string value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.True => "on",
                    JsonValueKind.False => "off",
                    _ => throw new InputException($"{where}: found {p.Value.ValueKind.ToString().ToLowerInvariant()}, expected {s_fields[i].Accepts}"),
                };
                config = s_fields[i].Apply(config, value, where);
            }

            if (costs is JsonProperty c)
            {
                config = config with { Costs = CostProfileJson.Read(c.Value.GetRawText(), $"{source}: $.{c.Name}", config.Arch) };
            }
        }

        return config;
    }

    /// <summary>The configuration as a scenario file that <see cref="ApplyJson"/> reads back to an
    /// equal configuration (binary traces keep it in their header).</summary>
    public static string ToJson(ScenarioConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("scenario", c.Scenario);
            w.WriteString("strategy", c.Strategy.Name());
            w.WriteString("arch", c.Arch.ToCliName());
            w.WriteNumber("cpus", c.Cpus);
            w.WriteNumber("vcpus", c.Vcpus);
            w.WriteNumber("ram", c.RamBytes);
            w.WriteNumber("guest_memory", c.GuestMemoryBytes);
            w.WriteNumber("pages", c.Pages);
            w.WriteNumber("passes", c.Passes);
            w.WriteNumber("seed", c.Seed);
            w.WriteNumber("threads", c.Threads);
            w.WriteString("populate", c.Populate.Name());
            w.WriteNumber("populate_fraction", c.PopulateFraction);
            w.WriteNumber("folio_order", c.FolioOrder);
            w.WriteNumber("vms", c.Vms);
            w.WriteNumber("background_accesses", c.BackgroundAccesses);
            w.WriteNumber("quantum_ns", c.QuantumNs);
            w.WriteNumber("jump_probability", c.JumpProbability);
            w.WriteBoolean("gbpages", c.GbPages);
            w.WriteString("rodata", c.RodataFull ? "full" : "off");
            if (c.Costs is not null)
            {
                w.WritePropertyName("cost_profile");
                w.WriteRawValue(CostProfileJson.Write(c.Costs));
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Cross-field checks, after every source was applied.</summary>
    public static ScenarioConfig Validate(ScenarioConfig c, string where)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Vcpus > c.Cpus)
        {
            throw new InputException($"{where}: vcpus ({c.Vcpus}) must be at most cpus ({c.Cpus})");
        }

        if (c.GuestMemoryBytes % PageGeometry.PageSize != 0 || c.RamBytes % PageGeometry.PageSize != 0)
        {
            throw new InputException($"{where}: ram and guest-memory must be multiples of 4 KiB");
        }

        long folioBytes = PageGeometry.PageSize << c.FolioOrder;
        if (c.GuestMemoryBytes % (folioBytes * c.Vcpus) != 0 && c.Scenario == ScenarioNames.GuestBoot)
        {
            throw new InputException($"{where}: guest-memory must split evenly into vcpus slices of whole folios ({Sizes.Format(folioBytes)} each)");
        }

        if (c.Arch.IsX86() && !c.RodataFull)
        {
            throw new InputException($"{where}: rodata applies to arm64 profiles only");
        }

        if (c.Costs is not null)
        {
            CostProfileJson.CheckArch(c.Costs, $"{where}: cost_profile", c.Arch);
        }

        return c;
    }

    private static string Choices(IEnumerable<string> names) => "one of " + string.Join(", ", names);

    private static InputException Bad(string where, string value, string accepts) => new($"{where}: '{value}' is not {accepts}");

    private static string Choice(string value, IReadOnlyList<string> accepted, string where) =>
        accepted.Contains(value, StringComparer.Ordinal) ? value : throw Bad(where, value, Choices(accepted));

    private static long Integer(string value, long min, long max, string where) =>
        Sizes.TryParseInteger(value, out long n) && n >= min && n <= max
            ? n
            : throw Bad(where, value, string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}"));

    private static long Bytes(string value, long min, long max, string where) =>
        Sizes.TryParseBytes(value, out long n) && n >= min && n <= max
            ? n
            : throw Bad(where, value, $"a size from {Sizes.Format(min)} to {Sizes.Format(max)} (e.g. 16G, 512M)");

    private static double Fraction(string value, string where) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 && d <= 1
            ? d
            : throw Bad(where, value, "a number from 0 to 1");
}
