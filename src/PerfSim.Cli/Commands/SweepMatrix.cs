using System.Text.Json;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Cli.Commands;

/// <summary>
/// What a sweep varies (<see cref="Axes"/>, first axis slowest) and the fields every run shares
/// (<see cref="Base"/>), from <c>--vary key=v1,v2</c> options or a matrix file:
/// <code>{"vary": {"strategy": ["none", "per-folio"], "cpus": [8, 64]}, "base": {"guest-memory": "2G"}}</code>
/// Keys are scenario field names, dashed or snake_case. Every value is checked against the
/// field's range before anything runs, and errors name the option or the file and JSON path.
/// </summary>
internal sealed record SweepMatrix(IReadOnlyList<MatrixAxis> Axes, IReadOnlyList<FieldValue> Base, string Source)
{
    /// <summary>Most runs a sweep (all its shards together) may have: at a second or more each,
    /// ten thousand is already hours; beyond, shard the study into several sweeps.</summary>
    public const int MaxRuns = 10_000;

    /// <summary>Runs in the matrix, at most <see cref="MaxRuns"/> (checked when it is built).</summary>
    public int Size => (int)Product(Axes);

    /// <summary>The number of runs, saturating just above <see cref="MaxRuns"/> (no overflow).</summary>
    private static long Product(IReadOnlyList<MatrixAxis> axes) =>
        axes.Aggregate(1L, (size, axis) => Math.Min(size * axis.Values.Count, MaxRuns + 1L));

    /// <summary>Refuses a matrix of more than <see cref="MaxRuns"/> runs, naming the axis sizes.</summary>
    private static SweepMatrix Capped(SweepMatrix matrix)
    {
        if (Product(matrix.Axes) > MaxRuns)
        {
            string sizes = string.Join(" × ", matrix.Axes.Select(a => $"{a.Values.Count} {a.Name}"));
            throw new InputException($"{matrix.Source}: the matrix has more than {MaxRuns} runs ({sizes}); a sweep runs at most {MaxRuns}: vary fewer values, or split the study into several sweeps");
        }

        return matrix;
    }

    /// <summary>The varied fields of the run at <paramref name="ordinal"/> and its canonical key.</summary>
    public (string Key, IReadOnlyList<FieldValue> Fields) Run(int ordinal)
    {
        string key = SweepKey.At(Axes, ordinal);
        return (key, [.. SweepKey.Parse(key).Select(v => new FieldValue(v.Key, v.Value, $"{Source}: {v.Key}={v.Value}"))]);
    }

    /// <summary>From repeatable <c>--vary key=v1,v2,...</c> options, in the order given.</summary>
    public static SweepMatrix FromOptions(IReadOnlyList<string> vary)
    {
        var axes = new List<MatrixAxis>();
        foreach (string option in vary)
        {
            int eq = option.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? option : option[..eq];
            string where = $"--vary {key}";
            if (eq <= 0 || eq == option.Length - 1)
            {
                throw new InputException($"--vary: '{option}' is not KEY=V1,V2,... (e.g. --vary strategy=none,per-folio --vary cpus=8,64)");
            }

            CheckKey(key, where);
            if (axes.Exists(a => a.Name == key))
            {
                throw new InputException($"{where}: given twice; list every value in one --vary {key}=V1,V2,...");
            }

            var values = new List<string>();
            foreach (string value in option[(eq + 1)..].Split(','))
            {
                CheckValue(key, value, values, where);
                values.Add(value);
            }

            axes.Add(new MatrixAxis(key, values));
        }

        return Capped(new SweepMatrix(axes, [], "--vary"));
    }

    /// <summary>From a matrix file, validated strictly with the Reporting JSON reader.</summary>
    public static SweepMatrix FromFile(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path, InputKind.Matrix);
        path = document.Source;
        InputObject root = document.Root.AsObject("vary", "base");
        var axes = new List<MatrixAxis>();
        foreach ((string name, InputElement element) in root.Required("vary", "an object of scenario field to a list of values").AsOpenObject().Properties())
        {
            string key = FieldKey(name, element);
            var values = new List<string>();
            foreach (InputElement item in element.AsArray(minLength: 1))
            {
                string value = Text(item);
                CheckValue(key, value, values, $"{path}: {item.Path}");
                values.Add(value);
            }

            axes.Add(new MatrixAxis(key, values));
        }

        if (axes.Count == 0)
        {
            throw root.Required("vary").Error("at least one scenario field to vary, e.g. {\"strategy\": [\"none\", \"per-folio\"]}");
        }

        var baseFields = new List<FieldValue>();
        if (root.Optional("base") is { } baseElement)
        {
            foreach ((string name, InputElement element) in baseElement.AsOpenObject().Properties())
            {
                string key = FieldKey(name, element);
                if (axes.Exists(a => a.Name == key))
                {
                    throw element.Error($"no value: {key} is varied in $.vary; give it in one place");
                }

                var field = new FieldValue(key, Text(element), $"{path}: {element.Path}");
                ScenarioFields.Set(new ScenarioConfig(), field.Key, field.Value, field.Where);
                baseFields.Add(field);
            }
        }

        return Capped(new SweepMatrix(axes, baseFields, path));
    }

    // Scenario files accept snake_case keys; so does the matrix file.
    private static string FieldKey(string name, InputElement element)
    {
        string key = name.Replace('_', '-');
        return ScenarioFields.OptionNames.Contains(key, StringComparer.Ordinal)
            ? key
            : throw InputException.At(
                element.Source, element.Path, $"an unknown scenario field \"{name}\"", "one of: " + string.Join(", ", ScenarioFields.OptionNames));
    }

    // The same value kinds as scenario files: strings, numbers, and true/false for on/off fields.
    private static string Text(InputElement element) => element.Kind switch
    {
        JsonValueKind.String => element.AsString(),
        JsonValueKind.Number => element.Value.GetRawText(),
        JsonValueKind.True => "on",
        JsonValueKind.False => "off",
        _ => throw element.Error("a string, a number or true/false"),
    };

    private static void CheckKey(string key, string where)
    {
        if (!ScenarioFields.OptionNames.Contains(key, StringComparer.Ordinal))
        {
            throw new InputException($"{where}: unknown scenario field; accepted: {string.Join(", ", ScenarioFields.OptionNames)}");
        }
    }

    private static void CheckValue(string key, string value, List<string> earlier, string where)
    {
        if (value.Length == 0 || value.AsSpan().IndexOfAny(",=") >= 0)
        {
            throw new InputException($"{where}: '{value}' is not a value: values are non-empty and contain no ',' or '='");
        }

        if (earlier.Contains(value, StringComparer.Ordinal))
        {
            throw new InputException($"{where}: '{value}' is listed twice; each value once");
        }

        // Range and spelling now, so a typo fails before the first run rather than after an hour.
        ScenarioFields.Set(new ScenarioConfig(), key, value, where);
    }
}
