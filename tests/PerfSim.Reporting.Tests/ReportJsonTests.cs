using System.Text.Json.Nodes;
using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Tests;

public sealed class ReportJsonTests
{
    [Fact]
    public void Round_trip_preserves_every_field_and_the_exact_text()
    {
        RunReport report = Canned.Report(wallSamples: [100.5, 101.25, 99.75]);
        string json = ReportJson.Serialize(report);

        RunReport read = ReportJson.Parse(json);

        Assert.Equal(json, ReportJson.Serialize(read));
        Assert.Equal(report.Counters.ToArray(), read.Counters.ToArray());
        Assert.Equal(report.DirectMap, read.DirectMap);
        Assert.Equal(report.Sim, read.Sim);
        Assert.Equal(report.Exposure, read.Exposure);
        Assert.Equal(report.LatencyNs[LatencyNames.Fault].Histogram, read.LatencyNs[LatencyNames.Fault].Histogram);
        Assert.Equal([100.5, 101.25, 99.75], read.Wall.FaultsPerWallSecondSamples!);
        Assert.True(JsonNode.DeepEquals(report.Config, read.Config));
    }

    [Fact]
    public void Json_uses_the_documented_keys_in_order()
    {
        JsonObject root = JsonNode.Parse(ReportJson.Serialize(Canned.Report()))!.AsObject();

        Assert.Equal(
            ["schema", "config", "scenario", "counters", "direct_map", "latency_ns", "sim", "wall", "digest", "passes", "exposure", "violations"],
            root.Select(p => p.Key));
        Assert.Equal("perfsim.report/1", (string?)root["schema"]);
        Assert.Equal(CounterNames.Required.Append("engine_quanta"), root["counters"]!.AsObject().Select(p => p.Key));
        Assert.Equal(14_680_064, (long)root["direct_map"]!["before"]!["DirectMap1G"]!);
        Assert.Equal(2_048, (long)root["latency_ns"]!["fault"]!["histogram"]![2]!["le_ns"]!);
        Assert.Equal(["count", "p50", "p90", "p99", "p999", "max", "mean", "histogram"], root["latency_ns"]!["fault"]!.AsObject().Select(p => p.Key));
        Assert.Equal(8.5, (double)root["wall"]!["bytes_per_simulated_frame"]!);
        Assert.Equal(-2_097_152, (long)root["passes"]![0]!["direct_map_delta"]!["DirectMap1G"]!);
    }

    [Fact]
    public void Numbers_are_invariant_under_a_comma_decimal_culture()
    {
        using IDisposable culture = TestCultures.UseCommaDecimal();
        string json = ReportJson.Serialize(Canned.Report());

        Assert.Contains("\"bytes_per_simulated_frame\": 8.5\n", json, StringComparison.Ordinal);
        Assert.Contains("\"mean_window_ns\": 1250.5,", json, StringComparison.Ordinal);
        Assert.DoesNotContain("8,5", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_top_level_key_is_rejected()
    {
        JsonObject root = Mutable();
        root["extra"] = 1;

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.StartsWith("report.json: $.extra: found an unknown key \"extra\", expected one of: schema,", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_counter_is_rejected()
    {
        JsonObject root = Mutable();
        root["counters"]!.AsObject().Remove("ipis");

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.Equal("report.json: $.counters.ipis: found nothing (the field is missing), expected a non-negative integer", ex.Message);
    }

    [Fact]
    public void Negative_counter_is_rejected_with_its_path()
    {
        JsonObject root = Mutable();
        root["counters"]!["faults"] = -1;

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.Equal("report.json: $.counters.faults: found -1, expected a non-negative integer", ex.Message);
    }

    [Fact]
    public void Wrong_schema_version_is_rejected()
    {
        JsonObject root = Mutable();
        root["schema"] = "perfsim.report/2";

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.Equal("report.json: $.schema: found \"perfsim.report/2\" (a string), expected one of: \"perfsim.report/1\"", ex.Message);
    }

    [Fact]
    public void Histogram_bounds_must_increase()
    {
        JsonObject root = Mutable();
        root["latency_ns"]!["fault"]!["histogram"]![1]!["le_ns"] = 100;

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.Equal("report.json: $.latency_ns.fault.histogram[1].le_ns: found 100, expected an integer of at least 513", ex.Message);
    }

    [Fact]
    public void Missing_latency_operation_is_rejected()
    {
        JsonObject root = Mutable();
        root["latency_ns"]!.AsObject().Remove("populate_page");

        InputException ex = Assert.Throws<InputException>(() => ReportJson.Parse(root.ToJsonString()));

        Assert.StartsWith("report.json: $.latency_ns.populate_page: found nothing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writing_a_report_without_a_required_counter_fails()
    {
        RunReport report = Canned.Report();
        report.Counters.Remove(CounterNames.Oops);

        Assert.Throws<ArgumentException>(() => ReportJson.Serialize(report));
    }

    [Fact]
    public void Reading_a_truncated_file_reports_file_and_position()
    {
        string path = Path.Combine(Path.GetTempPath(), "perfsim-" + Guid.NewGuid().ToString("N") + "-report.json");
        string json = ReportJson.Serialize(Canned.Report());
        File.WriteAllText(path, json[..(json.Length / 2)]);
        try
        {
            InputException ex = Assert.Throws<InputException>(() => ReportJson.ReadFile(path));

            Assert.StartsWith($"{path}: invalid or truncated JSON at line ", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static JsonObject Mutable() => JsonNode.Parse(ReportJson.Serialize(Canned.Report()))!.AsObject();
}
