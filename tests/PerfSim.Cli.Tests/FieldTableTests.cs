using System.Text.Json.Nodes;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;

namespace PerfSim.Cli.Tests;

/// <summary>One field table feeds options, scenario files, trace headers and report configs.</summary>
public sealed class FieldTableTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Options_to_config_to_report_to_scenario_file_give_the_same_config_and_the_same_run()
    {
        string[] options =
        [
            "--scenario", "vm-churn", "--strategy", "filemap", "--arch", "arm64", "--cpus", "8", "--vcpus", "2", "--vms", "2", "--passes", "2",
            "--guest-memory", "8M", "--ram", "1G", "--seed", "9", "--populate", "write-mermap", "--populate-fraction", "0.5",
            "--background-accesses", "1", "--jump-probability", "0.125", "--quantum-ns", "50000", "--rodata", "full", "--threads", "1",
        ];
        var first = CliRunner.Run(["run", .. options, "--no-report", "--format", "json"]);
        RunReport report = ReportJson.Parse(first.Out);

        JsonObject scenarioFile = report.Config.DeepClone().AsObject();
        scenarioFile.Remove(ReportMapper.HostKey);
        string file = _dir.File("from-report.json", scenarioFile.ToJsonString());
        var second = CliRunner.Run("run", "--scenario", file, "--no-report", "--format", "json");
        RunReport again = ReportJson.Parse(second.Out);

        Assert.Equal((0, "", 0, ""), (first.Code, first.Err, second.Code, second.Err));
        Assert.Equal(report.Config.ToJsonString(), again.Config.ToJsonString());
        Assert.Equal(report.Digest, again.Digest);
        Assert.Equal(0.125, report.Config["jump_probability"]!.GetValue<double>());
        Assert.Equal("full", report.Config["rodata"]!.GetValue<string>());
        Assert.Null(report.Config["pages"]);
    }

    [Fact]
    public void The_trace_header_holds_every_field_and_reads_back_to_the_same_config()
    {
        var config = new ScenarioConfig { Scenario = ScenarioNames.SecretmemTouch, Cpus = 4, Pages = 77, GbPages = false, PopulateFraction = 0.3, Seed = 42 };

        string json = ScenarioFields.ToJson(config);
        ScenarioConfig back = ScenarioFields.ApplyJson(new ScenarioConfig(), json, "header");

        Assert.Equal(json, ScenarioFields.ToJson(back));
        Assert.Equal(ScenarioFields.Keys, JsonNode.Parse(json)!.AsObject().Select(p => p.Key));
        Assert.Equal(4, back.Vcpus);
    }

    [Fact]
    public void A_report_config_shows_only_the_fields_its_scenario_uses()
    {
        JsonObject secretmem = ReportMapper.Config(new ScenarioConfig { Scenario = ScenarioNames.SecretmemTouch }, "16 GiB");
        JsonObject boot = ReportMapper.Config(new ScenarioConfig(), "16 GiB");

        Assert.Equal(
            ["scenario", "arch", "cpus", "vcpus", "ram", "pages", "passes", "threads", "quantum_ns", "idle", "x2apic", "busy_cpus", "gbpages", "rodata", "host", "cost_profile"],
            secretmem.Select(p => p.Key));
        Assert.DoesNotContain("pages", boot.Select(p => p.Key));
        Assert.Contains("guest_memory", boot.Select(p => p.Key));
    }

    [Fact]
    public void Every_field_is_an_option_of_run_sweep_trace_and_replay_named_from_its_key()
    {
        foreach (CommandSpec spec in CommandSpecs.Create().Where(s => s.Name is "run" or "sweep" or "trace" or "replay"))
        {
            Assert.All(ScenarioFields.All, f => Assert.Contains(spec.Options, o => o.Name == "--" + f.Key.Replace('_', '-')));
        }
    }
}
