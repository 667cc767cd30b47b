using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerfSim.Reporting.Rendering;

/// <summary>One field of the run header: a stable machine name, the text for humans and for CSV.</summary>
public sealed record HeaderField(string Name, string Display, string Raw);

/// <summary>
/// What ran, in one line: scenario, strategy, architecture, CPUs, vCPUs, guest and host size, seed.
/// The text summary, report.md and the CSV columns all take it from here. Read from the opaque
/// configuration by key; a key the configuration lacks is left out rather than guessed.
/// </summary>
public static class RunHeader
{
    public static IReadOnlyList<HeaderField> For(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        JsonObject config = report.Config;
        var fields = new List<HeaderField>();
        void Add(string name, string configKey, Func<JsonValue, string?> display)
        {
            if (config[configKey] is JsonValue value && display(value) is { } text)
            {
                fields.Add(new HeaderField(name, text, Raw(value)));
            }
        }

        Add("strategy", "strategy", Text);
        Add("arch", "arch", Text);
        Add("cpus", "cpus", v => Integer(v) is long n ? $"{Invariant.Integer(n)} CPUs" : null);
        Add("vcpus", "vcpus", v => Integer(v) is long n ? $"{Invariant.Integer(n)} vCPUs" : null);
        Add("guest_memory", "guest_memory", v => Integer(v) is long n ? "guest " + Invariant.Bytes(n) : null);
        Add("ram", "ram", v => Integer(v) is long n ? "host " + Invariant.Bytes(n) : null);
        Add("seed", "seed", v => Integer(v) is long n ? "seed " + Invariant.Integer(n) : null);
        return fields;
    }

    /// <summary><c>guest-boot: per-folio on x86_64, 16 CPUs, 4 vCPUs, guest 16 MiB, host 4 GiB, seed 7</c>.</summary>
    public static string Line(RunReport report)
    {
        IReadOnlyList<HeaderField> fields = For(report);
        string Of(string name) => fields.FirstOrDefault(f => f.Name == name)?.Display ?? "";
        string design = (Of("strategy"), Of("arch")) switch
        {
            ("", "") => "",
            (var s, "") => s,
            ("", var a) => a,
            (var s, var a) => $"{s} on {a}",
        };
        IEnumerable<string> parts = new[] { design }.Concat(fields.Where(f => f.Name is not ("strategy" or "arch")).Select(f => f.Display)).Where(p => p.Length > 0);
        string rest = string.Join(", ", parts);
        return rest.Length == 0 ? report.Scenario : $"{report.Scenario}: {rest}";
    }

    private static string? Text(JsonValue value) => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    // Through the JSON text: a node built in memory holds an int or a long, one read from a file a JsonElement.
    private static long? Integer(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number && long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n)
            ? n
            : null;

    private static string Raw(JsonValue value) => Text(value) ?? value.ToJsonString();
}
