using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using CommunityToolkit.HighPerformance.Buffers;
using System.Text.Json;
using PerfSim.Reporting.Input;

namespace PerfSim.Reporting;

/// <summary>
/// Reads and writes <c>report.json</c>. Writing is deterministic (fixed key order, "\n" line
/// ends, shortest round-trip numbers, no culture). Reading is strict: unknown keys, wrong types,
/// out-of-range numbers, missing fields and a wrong schema version all throw
/// <see cref="InputException"/>.
/// </summary>
public static class ReportJson
{
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        NewLine = "\n",
        // Reports are files, not HTML: keep '+', '<' and non-ASCII readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] s_topKeys =
    [
        "schema", "config", "scenario", "counters", "direct_map", "latency_ns", "sim", "wall", "digest",
        "passes", "exposure", "violations",
    ];

    private static readonly string[] s_directMapKeys = ["DirectMap4k", "DirectMap2M", "DirectMap1G"];

    public static string Serialize(RunReport report) => ToText(writer => Write(writer, report));

    /// <summary>
    /// Runs <paramref name="write"/> on a writer with <see cref="WriterOptions"/> and returns the text
    /// with a final newline. The bytes go to a pooled buffer (a sweep.json of many runs is megabytes):
    /// one copy into the string, where a MemoryStream cost its growth steps plus a ToArray copy.
    /// </summary>
    internal static string ToText(Action<Utf8JsonWriter> write)
    {
        using var buffer = new ArrayPoolBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        buffer.Write("\n"u8);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a report file; every problem surfaces as <see cref="InputException"/>.</summary>
    public static RunReport ReadFile(string path)
    {
        using InputDocument document = JsonInput.LoadFile(path);
        return Read(document.Root);
    }

    /// <summary>Parses report text; <paramref name="sourceName"/> names it in error messages.</summary>
    public static RunReport Parse(string json, string sourceName = "report.json")
    {
        using InputDocument document = JsonInput.Parse(json, sourceName);
        return Read(document.Root);
    }

    internal static void Write(Utf8JsonWriter writer, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        CheckComplete(report);
        writer.WriteStartObject();
        writer.WriteString("schema", RunReport.SchemaVersion);
        writer.WritePropertyName("config");
        report.Config.WriteTo(writer);
        writer.WriteString("scenario", report.Scenario);
        WriteCounters(writer, "counters", report.Counters);

        writer.WriteStartObject("direct_map");
        WriteDirectMap(writer, "before", report.DirectMap.Before);
        WriteDirectMap(writer, "after", report.DirectMap.After);
        writer.WriteEndObject();

        writer.WriteStartObject("latency_ns");
        foreach ((string name, LatencySummary latency) in report.LatencyNs)
        {
            WriteLatency(writer, name, latency);
        }

        writer.WriteEndObject();

        writer.WriteStartObject("sim");
        writer.WriteNumber("elapsed_ns", report.Sim.ElapsedNs);
        writer.WriteNumber("faults_per_sim_second", report.Sim.FaultsPerSimSecond);
        writer.WriteNumber("populate_bytes_per_sim_second", report.Sim.PopulateBytesPerSimSecond);
        writer.WriteEndObject();

        writer.WriteStartObject("wall");
        writer.WriteNumber("seconds", report.Wall.Seconds);
        writer.WriteNumber("threads", report.Wall.Threads);
        writer.WriteNumber("faults_per_wall_second", report.Wall.FaultsPerWallSecond);
        writer.WriteNumber("bytes_per_simulated_frame", report.Wall.BytesPerSimulatedFrame);
        if (report.Wall.FaultsPerWallSecondSamples is { } samples)
        {
            writer.WriteStartArray("faults_per_wall_second_samples");
            foreach (double sample in samples)
            {
                writer.WriteNumberValue(sample);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteString("digest", report.Digest);

        if (report.Passes is { } passes)
        {
            writer.WriteStartArray("passes");
            foreach (PassReport pass in passes)
            {
                writer.WriteStartObject();
                writer.WriteNumber("pass", pass.Pass);
                if (pass.Label.Length > 0)
                {
                    writer.WriteString("label", pass.Label);
                }

                WriteCounters(writer, "counters", pass.Counters);
                WriteDirectMap(writer, "direct_map_delta", pass.DirectMapDelta);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (report.Exposure is { } exposure)
        {
            writer.WriteStartObject("exposure");
            writer.WriteNumber("zapped_pages", exposure.ZappedPages);
            writer.WriteNumber("stale_cpu_entries", exposure.StaleCpuEntries);
            writer.WriteNumber("mean_window_ns", exposure.MeanWindowNs);
            writer.WriteNumber("max_window_ns", exposure.MaxWindowNs);
            writer.WriteEndObject();
        }

        if (report.Violations is { } violations)
        {
            writer.WriteStartArray("violations");
            foreach (string violation in violations)
            {
                writer.WriteStringValue(violation);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    internal static RunReport Read(InputElement root)
    {
        InputObject obj = root.AsObject(s_topKeys);
        obj.Required("schema", $"\"{RunReport.SchemaVersion}\"").AsOneOf(RunReport.SchemaVersion);

        var latency = new OrderedDictionary<string, LatencySummary>(StringComparer.Ordinal);
        InputObject latencyObj = obj.Required("latency_ns", "an object").AsOpenObject();
        foreach ((string name, InputElement value) in latencyObj.Properties())
        {
            latency.Add(name, ReadLatency(value));
        }

        RequireKeys(latencyObj, LatencyNames.Required, "an object with count, p50, p90, p99, p999, max, mean, histogram");

        InputObject counters = obj.Required("counters", "an object").AsOpenObject();
        RequireKeys(counters, CounterNames.Required, "a non-negative integer");

        InputObject directMap = obj.Required("direct_map", "an object").AsObject("before", "after");
        InputObject sim = obj.Required("sim", "an object")
            .AsObject("elapsed_ns", "faults_per_sim_second", "populate_bytes_per_sim_second");
        InputObject wall = obj.Required("wall", "an object").AsObject(
            "seconds", "threads", "faults_per_wall_second", "bytes_per_simulated_frame", "faults_per_wall_second_samples");

        return new RunReport
        {
            Config = obj.Required("config", "an object").AsJsonObject(),
            Scenario = obj.GetString("scenario"),
            Counters = ReadCounters(counters, min: 0),
            DirectMap = new DirectMapBeforeAfter(
                ReadDirectMap(directMap.Required("before", "an object"), min: 0),
                ReadDirectMap(directMap.Required("after", "an object"), min: 0)),
            LatencyNs = latency,
            Sim = new SimFigures(
                sim.GetInt64("elapsed_ns", min: 0),
                sim.GetDouble("faults_per_sim_second", min: 0),
                sim.GetDouble("populate_bytes_per_sim_second", min: 0)),
            Wall = new WallFigures
            {
                Seconds = wall.GetDouble("seconds", min: 0),
                Threads = wall.GetInt32("threads", min: 1, max: 4096),
                FaultsPerWallSecond = wall.GetDouble("faults_per_wall_second", min: 0),
                BytesPerSimulatedFrame = wall.GetDouble("bytes_per_simulated_frame", min: 0),
                FaultsPerWallSecondSamples = wall.Optional("faults_per_wall_second_samples")?
                    .AsArray().Select(s => s.AsDouble(min: 0)).ToArray(),
            },
            Digest = obj.GetString("digest"),
            Passes = obj.Optional("passes")?.AsArray().Select(ReadPass).ToArray(),
            Exposure = obj.Optional("exposure") is { } exposure ? ReadExposure(exposure) : null,
            Violations = obj.Optional("violations")?.AsArray().Select(v => v.AsString()).ToArray(),
        };
    }

    private static void CheckComplete(RunReport report)
    {
        string? missing = CounterNames.Required.FirstOrDefault(name => !report.Counters.ContainsKey(name))
            ?? LatencyNames.Required.FirstOrDefault(name => !report.LatencyNs.ContainsKey(name));
        if (missing is not null)
        {
            throw new ArgumentException($"The report lacks the required entry \"{missing}\".", nameof(report));
        }
    }

    private static void WriteCounters(Utf8JsonWriter writer, string key, OrderedDictionary<string, long> counters)
    {
        writer.WriteStartObject(key);
        foreach ((string name, long value) in counters)
        {
            writer.WriteNumber(name, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteDirectMap(Utf8JsonWriter writer, string key, DirectMapSizes sizes)
    {
        writer.WriteStartObject(key);
        writer.WriteNumber("DirectMap4k", sizes.DirectMap4k);
        writer.WriteNumber("DirectMap2M", sizes.DirectMap2M);
        writer.WriteNumber("DirectMap1G", sizes.DirectMap1G);
        writer.WriteEndObject();
    }

    private static void WriteLatency(Utf8JsonWriter writer, string key, LatencySummary latency)
    {
        writer.WriteStartObject(key);
        writer.WriteNumber("count", latency.Count);
        writer.WriteNumber("p50", latency.P50);
        writer.WriteNumber("p90", latency.P90);
        writer.WriteNumber("p99", latency.P99);
        writer.WriteNumber("p999", latency.P999);
        writer.WriteNumber("max", latency.Max);
        writer.WriteNumber("mean", latency.Mean);
        writer.WriteStartArray("histogram");
        foreach (HistogramBucket bucket in latency.Histogram)
        {
            writer.WriteStartObject();
            writer.WriteNumber("le_ns", bucket.LeNs);
            writer.WriteNumber("count", bucket.Count);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void RequireKeys(InputObject obj, IReadOnlyList<string> keys, string expected)
    {
        foreach (string key in keys)
        {
            obj.Required(key, expected);
        }
    }

    private static OrderedDictionary<string, long> ReadCounters(InputObject obj, long min)
    {
        var counters = new OrderedDictionary<string, long>(StringComparer.Ordinal);
        foreach ((string name, InputElement value) in obj.Properties())
        {
            counters.Add(name, value.AsInt64(min: min));
        }

        return counters;
    }

    private static DirectMapSizes ReadDirectMap(InputElement element, long min)
    {
        InputObject obj = element.AsObject(s_directMapKeys);
        return new DirectMapSizes(
            obj.GetInt64("DirectMap4k", min: min),
            obj.GetInt64("DirectMap2M", min: min),
            obj.GetInt64("DirectMap1G", min: min));
    }

    private static LatencySummary ReadLatency(InputElement element)
    {
        InputObject obj = element.AsObject("count", "p50", "p90", "p99", "p999", "max", "mean", "histogram");
        var buckets = new List<HistogramBucket>();
        long previousLe = 0;
        foreach (InputElement item in obj.Required("histogram", "an array of {le_ns, count}").AsArray())
        {
            InputObject bucket = item.AsObject("le_ns", "count");
            // Bounds must increase: the chart and the percentile reading depend on bucket order.
            long le = bucket.GetInt64("le_ns", min: previousLe + 1);
            buckets.Add(new HistogramBucket(le, bucket.GetInt64("count", min: 0)));
            previousLe = le;
        }

        return new LatencySummary
        {
            Count = obj.GetInt64("count", min: 0),
            P50 = obj.GetInt64("p50", min: 0),
            P90 = obj.GetInt64("p90", min: 0),
            P99 = obj.GetInt64("p99", min: 0),
            P999 = obj.GetInt64("p999", min: 0),
            Max = obj.GetInt64("max", min: 0),
            Mean = obj.GetDouble("mean", min: 0),
            Histogram = buckets,
        };
    }

    private static PassReport ReadPass(InputElement element)
    {
        InputObject obj = element.AsObject("pass", "label", "counters", "direct_map_delta");
        return new PassReport(
            obj.GetInt32("pass", min: 0),
            ReadCounters(obj.Required("counters", "an object").AsOpenObject(), min: 0),
            ReadDirectMap(obj.Required("direct_map_delta", "an object"), min: long.MinValue),
            obj.Optional("label")?.AsString() ?? "");
    }

    private static ExposureReport ReadExposure(InputElement element)
    {
        InputObject obj = element.AsObject("zapped_pages", "stale_cpu_entries", "mean_window_ns", "max_window_ns");
        return new ExposureReport(
            obj.GetInt64("zapped_pages", min: 0),
            obj.GetInt64("stale_cpu_entries", min: 0),
            obj.GetDouble("mean_window_ns", min: 0),
            obj.GetDouble("max_window_ns", min: 0));
    }
}
