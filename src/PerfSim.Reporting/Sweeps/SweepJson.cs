using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Sweeps;

/// <summary>Reads and writes sweep files with the same rules as <see cref="ReportJson"/>.</summary>
public static class SweepJson
{
    public static string Serialize(SweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return ReportJson.ToText(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("schema", SweepReport.SchemaVersion);
            writer.WriteStartObject("matrix");
            foreach (MatrixAxis axis in sweep.Matrix)
            {
                writer.WriteStartArray(axis.Name);
                foreach (string value in axis.Values)
                {
                    writer.WriteStringValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            if (sweep.Shard is { } shard)
            {
                writer.WriteStartObject("shard");
                writer.WriteNumber("index", shard.Index);
                writer.WriteNumber("count", shard.Count);
                writer.WriteEndObject();
            }

            writer.WriteStartArray("runs");
            foreach (SweepRun run in sweep.Runs)
            {
                writer.WriteStartObject();
                writer.WriteString("key", run.Key);
                writer.WriteNumber("ordinal", run.Ordinal);
                writer.WritePropertyName("report");
                ReportJson.Write(writer, run.Report);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public static SweepReport ReadFile(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path);
        return Read(document.Root);
    }

    public static SweepReport Parse(string json, string sourceName = "sweep.json")
    {
        using InputDocument document = JsonInput.Parse(json, sourceName);
        return Read(document.Root);
    }

    internal static SweepReport Read(InputElement root)
    {
        InputObject obj = root.AsObject("schema", "matrix", "shard", "runs");
        obj.Required("schema", $"\"{SweepReport.SchemaVersion}\"").AsOneOf(SweepReport.SchemaVersion);

        var matrix = new List<MatrixAxis>();
        foreach ((string name, InputElement valuesElement) in obj.Required("matrix", "an object of axis name to values").AsOpenObject().Properties())
        {
            if (!IsKeyPart(name))
            {
                throw valuesElement.Error($"an axis name of {KeyPartRule}");
            }

            var values = new List<string>();
            foreach (InputElement item in valuesElement.AsArray(minLength: 1))
            {
                string value = item.AsString();
                if (!IsKeyPart(value) || values.Contains(value))
                {
                    throw item.Error($"a distinct value of {KeyPartRule}");
                }

                values.Add(value);
            }

            matrix.Add(new MatrixAxis(name, values));
        }

        if (matrix.Count == 0)
        {
            throw obj.Required("matrix").Error("at least one axis");
        }

        ShardInfo? shard = null;
        if (obj.Optional("shard") is { } shardElement)
        {
            InputObject shardObj = shardElement.AsObject("index", "count");
            int count = shardObj.GetInt32("count", min: 1);
            shard = new ShardInfo(shardObj.GetInt32("index", min: 0, max: count - 1), count);
        }

        string[] keys = SweepKey.All(matrix).ToArray();
        var runs = new List<SweepRun>();
        var seen = new HashSet<int>();
        foreach (InputElement runElement in obj.Required("runs", "an array").AsArray())
        {
            InputObject run = runElement.AsObject("key", "ordinal", "report");
            string key = run.GetString("key");
            int ordinal = Array.IndexOf(keys, key);
            if (ordinal < 0)
            {
                throw run.Required("key").Error($"a key of this matrix, e.g. \"{keys[0]}\"");
            }

            // The ordinal is redundant with the key; checking it catches files stitched from different matrices.
            InputElement ordinalElement = run.Required("ordinal", "an integer");
            if (ordinalElement.AsInt32(min: 0, max: keys.Length - 1) != ordinal)
            {
                throw ordinalElement.Error($"{ordinal} (the position of {key} in the matrix)");
            }

            if (!seen.Add(ordinal))
            {
                throw run.Required("key").Error("each run once per file");
            }

            runs.Add(new SweepRun(key, ordinal, ReportJson.Read(run.Required("report", "a run report"))));
        }

        return new SweepReport { Matrix = matrix, Shard = shard, Runs = runs };
    }

    private const string KeyPartRule = "letters, digits, ' ', '.', '_', '+', ':' and '-', without \"..\"";

    // Axis names and values end up in run keys, chart file names and messages: a value such as
    // "x/../../EVIL" or one with control bytes is no option value, only a tampered file.
    private static bool IsKeyPart(string part) =>
        part.Length > 0
        && part.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or '_' or '+' or ':' or '-')
        && !part.Contains("..", StringComparison.Ordinal);
}
