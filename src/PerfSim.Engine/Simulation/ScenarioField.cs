using System.Globalization;
using System.Text.Json.Nodes;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// One settable field of a scenario, described once (<see cref="ScenarioFields.All"/>): its key,
/// what it accepts, what it means, which scenarios use it, and how it is read and written.
/// Scenario files, matrix files, trace headers and report configs use <see cref="Key"/>
/// (snake_case); the command line derives its option from it (kebab-case, <see cref="OptionName"/>).
/// </summary>
public sealed record ScenarioField
{
    private readonly Func<ScenarioConfig, string, string, ScenarioConfig> _set;
    private readonly Func<ScenarioConfig, JsonNode> _get;
    private readonly Func<ScenarioConfig, string> _show;

    private ScenarioField(
        string key, string valueName, string accepts, string description, IReadOnlyList<string> choices,
        Func<ScenarioConfig, string, string, ScenarioConfig> set, Func<ScenarioConfig, JsonNode> get, Func<ScenarioConfig, string> show)
    {
        Key = key;
        ValueName = valueName;
        Accepts = accepts;
        Description = description;
        Choices = choices;
        _set = set;
        _get = get;
        _show = show;
    }

    /// <summary>The key in files and reports, e.g. <c>guest_memory</c>.</summary>
    public string Key { get; }

    /// <summary>The same name as a command-line option, without dashes in front: <c>guest-memory</c>.</summary>
    public string OptionName => Key.Replace('_', '-');

    /// <summary>A placeholder for the value in usage lines: <c>N</c>, <c>SIZE</c>, <c>on|off</c>.</summary>
    public string ValueName { get; }

    /// <summary>What the field accepts, as errors say it: "an integer from 1 to 1024".</summary>
    public string Accepts { get; }

    /// <summary>What the field means, one sentence.</summary>
    public string Description { get; }

    /// <summary>The accepted names of a choice field; empty for other fields.</summary>
    public IReadOnlyList<string> Choices { get; }

    /// <summary>The scenarios the field changes; null when every scenario uses it.</summary>
    public IReadOnlyList<string>? UsedBy { get; internal init; }

    /// <summary>Why a scenario outside <see cref="UsedBy"/> ignores the field, when that needs saying.</summary>
    public string? UnusedNote { get; internal init; }

    /// <summary>The default shown in help when it is not a fixed value (e.g. <c>min(16, cpus)</c>).</summary>
    public string? DefaultNote { get; internal init; }

    public bool AppliesTo(string scenario) => UsedBy is null || UsedBy.Contains(scenario, StringComparer.Ordinal);

    /// <summary>Sets the field from text; <paramref name="where"/> names the source in errors.</summary>
    public ScenarioConfig Set(ScenarioConfig config, string value, string where) => _set(config, value, where);

    /// <summary>The value as written to files and reports (read back by <see cref="Set"/>).</summary>
    public JsonNode Get(ScenarioConfig config) => _get(config);

    /// <summary>The value for people: <c>16 GiB</c>, <c>on</c>, <c>per-folio</c>.</summary>
    public string Show(ScenarioConfig config) => _show(config);

    /// <summary>The default, for help: a note when it adapts, else the default configuration's value.</summary>
    public string DefaultText => DefaultNote ?? Show(new ScenarioConfig());

    internal static ScenarioField Choice(
        string key, IReadOnlyList<string> names, string description, Func<ScenarioConfig, string> get, Func<ScenarioConfig, string, ScenarioConfig> set)
    {
        string accepts = "one of " + string.Join(", ", names);
        return new(key, string.Join('|', names), accepts, description, names,
            (c, v, w) => names.Contains(v, StringComparer.Ordinal) ? set(c, v) : throw Bad(w, v, accepts),
            c => JsonValue.Create(get(c)),
            get);
    }

    internal static ScenarioField OnOff(string key, string description, Func<ScenarioConfig, bool> get, Func<ScenarioConfig, bool, ScenarioConfig> set)
    {
        const string Accepts = "one of on, off";
        return new(key, "on|off", "on or off", description, ["on", "off"],
            (c, v, w) => v is "on" or "off" ? set(c, v == "on") : throw Bad(w, v, Accepts),
            c => JsonValue.Create(get(c)),
            c => get(c) ? "on" : "off");
    }

    internal static ScenarioField Integer(
        string key, string valueName, long min, long max, string description, Func<ScenarioConfig, long> get, Func<ScenarioConfig, long, ScenarioConfig> set)
    {
        string accepts = string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}");
        return new(key, valueName, accepts, description, [],
            (c, v, w) => Sizes.TryParseInteger(v, out long n) && n >= min && n <= max ? set(c, n) : throw Bad(w, v, accepts),
            c => JsonValue.Create(get(c)),
            c => get(c).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>An integer field that takes only the listed values ("0 or 9").</summary>
    internal static ScenarioField OneOf(
        string key, long[] values, string description, Func<ScenarioConfig, long> get, Func<ScenarioConfig, long, ScenarioConfig> set)
    {
        string accepts = string.Join(" or ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return new(key, string.Join('|', values.Select(v => v.ToString(CultureInfo.InvariantCulture))), accepts, description,
            [.. values.Select(v => v.ToString(CultureInfo.InvariantCulture))],
            (c, v, w) => Sizes.TryParseInteger(v, out long n) && values.Contains(n) ? set(c, n) : throw Bad(w, v, accepts),
            c => JsonValue.Create(get(c)),
            c => get(c).ToString(CultureInfo.InvariantCulture));
    }

    internal static ScenarioField Size(
        string key, long min, long max, string description, Func<ScenarioConfig, long> get, Func<ScenarioConfig, long, ScenarioConfig> set)
    {
        string accepts = $"a size from {Sizes.Format(min)} to {Sizes.Format(max)}";
        return new(key, "SIZE", accepts, description, [],
            (c, v, w) => Sizes.TryParseBytes(v, out long n) && n >= min && n <= max ? set(c, n) : throw Bad(w, v, accepts + " (e.g. 16G, 512M)"),
            c => JsonValue.Create(get(c)),
            c => Sizes.Format(get(c)));
    }

    internal static ScenarioField Fraction(string key, string description, Func<ScenarioConfig, double> get, Func<ScenarioConfig, double, ScenarioConfig> set)
    {
        const string Accepts = "a number from 0 to 1";
        return new(key, "0..1", Accepts, description, [],
            (c, v, w) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 && d <= 1 ? set(c, d) : throw Bad(w, v, Accepts),
            c => JsonValue.Create(get(c)),
            c => get(c).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A field whose text a parser reads (a value with a syntax of its own, such as
    /// <c>batch:16</c>); <paramref name="accepts"/> says what it takes.</summary>
    internal static ScenarioField Parsed<T>(
        string key, string valueName, string accepts, string description, TryParse<T> tryParse, Func<T, string> format,
        Func<ScenarioConfig, T> get, Func<ScenarioConfig, T, ScenarioConfig> set) =>
        new(key, valueName, accepts, description, [],
            (c, v, w) => tryParse(v, out T parsed) ? set(c, parsed) : throw Bad(w, v, accepts),
            c => JsonValue.Create(format(get(c))),
            c => format(get(c)));

    /// <summary>The shape of a <c>TryParse</c> method.</summary>
    internal delegate bool TryParse<T>(string? text, out T value);

    private static InputException Bad(string where, string value, string accepts) => new($"{where}: '{value}' is not {accepts}");
}
