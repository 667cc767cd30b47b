using System.Globalization;
using System.Text.Json;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Inputs;

/// <summary>
/// Cost-profile files and the report's <c>cost_profile</c> object: a JSON object whose optional
/// <c>"arch"</c> names the architecture it is for and whose other keys (<see cref="CostProfile.Fields"/>,
/// snake_case: <c>invlpg_ns</c>, <c>clear_page_ns</c>, ...) replace single defaults of that
/// architecture.
/// </summary>
public static class CostProfileJson
{
    /// <summary>Every accepted key, <c>arch</c> first.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["arch", .. CostProfile.Fields.Select(f => f.Key)];

    /// <summary>Reads a cost profile for a run on <paramref name="runArch"/>: its defaults are that
    /// architecture's, and an <c>arch</c> other than the run's is refused.</summary>
    /// <param name="json">The document.</param>
    /// <param name="where">Where it came from (a file, or a file and JSON path), for errors.</param>
    /// <param name="runArch">The architecture of the run.</param>
    /// <exception cref="InputException">Malformed JSON, unknown key, wrong type, out-of-range value
    /// or another architecture; one line naming <paramref name="where"/>, the field and what is accepted.</exception>
    public static CostProfile Read(string json, string where, ArchKind runArch)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return FromElement(doc.RootElement, where, runArch);
        }
        catch (JsonException e)
        {
            throw new InputException($"{where}: cost profile: not valid JSON: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Refuses a profile made for another architecture than the run's.</summary>
    /// <exception cref="InputException">The profile's arch is not <paramref name="runArch"/>.</exception>
    public static void CheckArch(CostProfile costs, string where, ArchKind runArch)
    {
        ArgumentNullException.ThrowIfNull(costs);
        CheckArch(costs.Arch, where, runArch);
    }

    /// <summary>Every field of <paramref name="costs"/> (indented, invariant), readable by <see cref="Read"/>.</summary>
    public static string Write(CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("arch", costs.Arch.ToCliName());
            foreach (CostField f in CostProfile.Fields)
            {
                writer.WriteNumber(f.Key, f.Get(costs));
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static CostProfile FromElement(JsonElement root, string where, ArchKind runArch)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InputException($"{where}: cost profile: the document must be a JSON object");
        }

        if (root.TryGetProperty("arch", out JsonElement archElement))
        {
            if (archElement.ValueKind != JsonValueKind.String || !ArchKinds.TryParse(archElement.GetString(), out ArchKind arch))
            {
                throw new InputException($"{where}: cost profile field 'arch' must be one of {string.Join(", ", ArchKinds.CliNames)}");
            }

            CheckArch(arch, where, runArch);
        }

        CostProfile profile = CostProfile.Default(runArch);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.Name == "arch")
            {
                continue;
            }

            CostField? field = CostProfile.Fields.FirstOrDefault(f => f.Key == property.Name);
            if (field is null)
            {
                throw new InputException($"{where}: cost profile: unknown field '{property.Name}' (accepted: {string.Join(", ", Keys)})");
            }

            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out long value) || value < 0 || value > field.MaxNs)
            {
                throw new InputException(
                    $"{where}: cost profile field '{field.Key}' must be an integer number of ns in [0, {field.MaxNs.ToString(CultureInfo.InvariantCulture)}], got {FirstLine(property.Value.GetRawText())}");
            }

            profile = field.With(profile, value);
        }

        return profile;
    }

    private static void CheckArch(ArchKind profileArch, string where, ArchKind runArch)
    {
        if (profileArch != runArch)
        {
            throw new InputException(
                $"{where}: cost profile field 'arch' is {profileArch.ToCliName()} but the run is on {runArch.ToCliName()} (accepted: {runArch.ToCliName()}, or no arch field)");
        }
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }
}
