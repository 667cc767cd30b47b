using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerfSim.Reporting.Input;

/// <summary>
/// One JSON value together with its file and JSON path. Every getter validates type and range
/// and throws <see cref="InputException"/> with a single-line message otherwise.
/// </summary>
public sealed class InputElement
{
    internal InputElement(string source, string path, JsonElement value)
    {
        Source = source;
        Path = path;
        Value = value;
    }

    public string Source { get; }

    /// <summary>JSON path of this value, e.g. <c>$.runs[2].report.counters.faults</c>.</summary>
    public string Path { get; }

    public JsonElement Value { get; }

    public JsonValueKind Kind => Value.ValueKind;

    /// <summary>An object whose keys must all be in <paramref name="allowedKeys"/>.</summary>
    public InputObject AsObject(params string[] allowedKeys)
    {
        ArgumentNullException.ThrowIfNull(allowedKeys);
        InputObject obj = AsOpenObject();
        foreach (JsonProperty property in Value.EnumerateObject())
        {
            if (Array.IndexOf(allowedKeys, property.Name) < 0)
            {
                throw InputException.At(
                    Source,
                    ChildPath(Path, property.Name),
                    $"an unknown key \"{Truncate(property.Name)}\"",
                    allowedKeys.Length == 0 ? "no keys" : "one of: " + string.Join(", ", allowedKeys));
            }
        }

        return obj;
    }

    /// <summary>An object with any keys: maps such as counters, or foreign formats.</summary>
    public InputObject AsOpenObject()
    {
        if (Kind != JsonValueKind.Object)
        {
            throw Error("an object");
        }

        return new InputObject(this);
    }

    /// <summary>An array; its items carry paths <c>[0]</c>, <c>[1]</c>, ...</summary>
    public IReadOnlyList<InputElement> AsArray(int minLength = 0)
    {
        if (Kind != JsonValueKind.Array)
        {
            throw Error(minLength > 0 ? $"an array of at least {minLength} items" : "an array");
        }

        var items = new List<InputElement>(Value.GetArrayLength());
        foreach (JsonElement item in Value.EnumerateArray())
        {
            items.Add(new InputElement(Source, $"{Path}[{items.Count}]", item));
        }

        if (items.Count < minLength)
        {
            throw Error($"an array of at least {minLength} items");
        }

        return items;
    }

    public string AsString(bool allowEmpty = false)
    {
        string expected = allowEmpty ? "a string" : "a non-empty string";
        if (Kind != JsonValueKind.String)
        {
            throw Error(expected);
        }

        string text = Value.GetString()!;
        return text.Length == 0 && !allowEmpty ? throw Error(expected) : text;
    }

    /// <summary>A string that must equal one of <paramref name="accepted"/> (ordinal).</summary>
    public string AsOneOf(params string[] accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        string expected = "one of: " + string.Join(", ", accepted.Select(a => $"\"{a}\""));
        if (Kind != JsonValueKind.String)
        {
            throw Error(expected);
        }

        string text = Value.GetString()!;
        return Array.IndexOf(accepted, text) >= 0 ? text : throw Error(expected);
    }

    public long AsInt64(long min = long.MinValue, long max = long.MaxValue)
    {
        if (Kind == JsonValueKind.Number && Value.TryGetInt64(out long value) && value >= min && value <= max)
        {
            return value;
        }

        throw Error(DescribeInteger(min, max));
    }

    public int AsInt32(int min = int.MinValue, int max = int.MaxValue) => (int)AsInt64(min, max);

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double AsDouble(double min = double.MinValue, double max = double.MaxValue)
    {
        if (Kind == JsonValueKind.Number && Value.TryGetDouble(out double value)
            && double.IsFinite(value) && value >= min && value <= max)
        {
            return value;
        }

        throw Error(DescribeNumber(min, max));
    }

    /// <summary>A detached copy of an object, for values that are opaque to Reporting.</summary>
    public JsonObject AsJsonObject()
    {
        AsOpenObject();
        return JsonNode.Parse(Value.GetRawText())!.AsObject();
    }

    /// <summary>An exception for this value: "found (this value), expected ...".</summary>
    public InputException Error(string expected) => InputException.At(Source, Path, Describe(Value), expected);

    internal static string ChildPath(string parent, string key)
    {
        bool plain = key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_')
            && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        return plain ? $"{parent}.{key}" : $"{parent}['{key.Replace("'", "\\'", StringComparison.Ordinal)}']";
    }

    internal static string DescribeInteger(long min, long max) => (min, max) switch
    {
        (long.MinValue, long.MaxValue) => "an integer",
        (0, long.MaxValue) => "a non-negative integer",
        (1, long.MaxValue) => "a positive integer",
        (_, long.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"an integer of at least {min}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}"),
    };

    internal static string DescribeNumber(double min, double max) => (min, max) switch
    {
        (double.MinValue, double.MaxValue) => "a finite number",
        (0, double.MaxValue) => "a finite non-negative number",
        (_, double.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"a finite number of at least {min:R}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"a number from {min:R} to {max:R}"),
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => $"an array of {value.GetArrayLength()} items",
        JsonValueKind.String => $"{Truncate(value.GetRawText())} (a string)",
        JsonValueKind.Undefined => "nothing",
        _ => Truncate(value.GetRawText()),
    };

    private static string Truncate(string text) => text.Length <= 48 ? text : text[..45] + "...";
}

/// <summary>A JSON object with typed, path-aware accessors for its fields.</summary>
public sealed class InputObject
{
    internal InputObject(InputElement element) => Element = element;

    public InputElement Element { get; }

    public string Path => Element.Path;

    public bool Has(string key) => Element.Value.TryGetProperty(key, out _);

    /// <summary>The field's value; a missing field is reported with <paramref name="expected"/>.</summary>
    public InputElement Required(string key, string expected = "a value")
    {
        return Optional(key) ?? throw InputException.At(
            Element.Source, InputElement.ChildPath(Path, key), "nothing (the field is missing)", expected);
    }

    /// <summary>The field's value, or null when it is absent (an explicit JSON null is not absent).</summary>
    public InputElement? Optional(string key) =>
        Element.Value.TryGetProperty(key, out JsonElement value)
            ? new InputElement(Element.Source, InputElement.ChildPath(Path, key), value)
            : null;

    /// <summary>Fields in document order, for maps.</summary>
    public IEnumerable<KeyValuePair<string, InputElement>> Properties()
    {
        foreach (JsonProperty property in Element.Value.EnumerateObject())
        {
            yield return new(
                property.Name,
                new InputElement(Element.Source, InputElement.ChildPath(Path, property.Name), property.Value));
        }
    }

    public string GetString(string key) => Required(key, "a non-empty string").AsString();

    public long GetInt64(string key, long min = long.MinValue, long max = long.MaxValue) =>
        Required(key, InputElement.DescribeInteger(min, max)).AsInt64(min, max);

    public int GetInt32(string key, int min = int.MinValue, int max = int.MaxValue) =>
        Required(key, InputElement.DescribeInteger(min, max)).AsInt32(min, max);

    public double GetDouble(string key, double min = double.MinValue, double max = double.MaxValue) =>
        Required(key, InputElement.DescribeNumber(min, max)).AsDouble(min, max);
}
