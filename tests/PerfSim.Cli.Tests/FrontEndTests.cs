using System.CommandLine;
using System.Text.Json.Nodes;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting;

namespace PerfSim.Cli.Tests;

/// <summary>The System.CommandLine front end: help, version, completion, response files, typo
/// suggestions, and the defaults that adapt to the host.</summary>
public sealed class FrontEndTests : IDisposable
{
    private static readonly string[] s_small = ["--ram", "512M", "--guest-memory", "4M", "--threads", "1"];
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> CommandNames()
    {
        var data = new TheoryData<string>();
        foreach (CommandSpec spec in CommandSpecs.Create())
        {
            data.Add(spec.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Every_command_has_help_with_a_description_for_every_option_and_examples(string command)
    {
        CommandSpec spec = CommandSpecs.Create().Single(s => s.Name == command);

        var (code, output, err) = CliRunner.Run(command, "--help");

        Assert.Equal((0, ""), (code, err));
        Assert.Contains(spec.Description, output, StringComparison.Ordinal);
        Assert.Contains("Examples:", output, StringComparison.Ordinal);
        foreach (Option option in spec.Options)
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), option.Name);
            Assert.Contains(option.Name, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_scenario_option_shows_its_range_and_default_in_help()
    {
        var (_, output, _) = CliRunner.Run("run", "--help");
        string flat = string.Join(' ', output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));

        foreach (ScenarioField field in ScenarioFields.All)
        {
            Assert.Contains($"--{field.OptionName} <", flat, StringComparison.Ordinal);
            Assert.Contains($"{field.Accepts}", flat, StringComparison.Ordinal);
            Assert.Contains($"[default: {field.DefaultText}]", flat, StringComparison.Ordinal);
        }

        Assert.Contains("[default: min(16, cpus)]", flat, StringComparison.Ordinal);
    }

    [Fact]
    public void No_arguments_prints_the_help_and_exits_0()
    {
        var (code, output, err) = CliRunner.Run();

        Assert.Equal((0, ""), (code, err));
        Assert.StartsWith("Description:", output, StringComparison.Ordinal);
        Assert.All(CommandSpecs.Create(), s => Assert.Contains(s.Name, output, StringComparison.Ordinal));
        Assert.Contains("Exit codes:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_prints_the_assembly_version()
    {
        var (code, output, err) = CliRunner.Run("--version");

        Assert.Equal((0, ""), (code, err));
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
        Assert.Single(output.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData(new[] { "run", "--cpu", "4" }, "perfsim run: unknown option --cpu (did you mean --cpus?)")]
    [InlineData(new[] { "run", "--guest-memroy", "4M" }, "perfsim run: unknown option --guest-memroy (did you mean --guest-memory?)")]
    [InlineData(new[] { "rnu" }, "perfsim: unknown command 'rnu' (did you mean run?)")]
    [InlineData(new[] { "run", "--cpus", "4", "--cpus", "8" }, "perfsim: --cpus: given twice")]
    [InlineData(new[] { "run", "--cpus" }, "perfsim: --cpus: missing value")]
    [InlineData(new[] { "run", "stray" }, "perfsim run: unexpected argument 'stray'")]
    [InlineData(new[] { "completion", "fish" }, "perfsim completion: give one shell, bash or zsh (got 'fish')")]
    [InlineData(new[] { "replay", "a.pstrace", "b.pstrace" }, "perfsim replay: unexpected argument 'b.pstrace'")]
    public void Parse_errors_are_one_line_with_exit_2_and_suggest_the_closest_name(string[] args, string expected)
    {
        var (code, output, err) = CliRunner.Run(args);

        Assert.Equal((2, ""), (code, output));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith(expected, err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_file_supplies_options_one_per_line()
    {
        string rsp = _dir.File("small.rsp", string.Join('\n', [.. s_small, "--cpus", "4", "--vcpus", "2"]));

        var (code, output, err) = CliRunner.Run("run", "@" + rsp, "--no-report", "--format", "json");

        Assert.Equal((0, ""), (code, err));
        JsonObject config = ReportJson.Parse(output).Config;
        Assert.Equal(4, config["cpus"]!.GetValue<int>());
        Assert.Equal(4L << 20, config["guest_memory"]!.GetValue<long>());
    }

    [Fact]
    public void Completion_scripts_ask_perfsim_through_the_suggest_directive_which_completes_options_and_values()
    {
        var (code, bash, _) = CliRunner.Run("completion", "bash");
        var (code2, zsh, _) = CliRunner.Run("completion", "zsh");
        var (_, options, _) = CliRunner.Run("[suggest:15]", "perfsim run --s");
        var (_, values, _) = CliRunner.Run("[suggest:23]", "perfsim run --strategy ");

        Assert.Equal((0, 0), (code, code2));
        Assert.Contains("complete -o default -F _perfsim_complete perfsim", bash, StringComparison.Ordinal);
        Assert.Contains("[suggest:", bash, StringComparison.Ordinal);
        Assert.Contains("compdef _perfsim_complete perfsim", zsh, StringComparison.Ordinal);
        Assert.Equal(["--scenario", "--seed", "--spread-vcpus", "--stage2-fwb", "--strategy"], options.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["filemap", "none", "per-folio", "per-folio-v12", "unmapped-alloc"], values.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Vcpus_default_to_at_most_the_hosts_cpus()
    {
        var small = CliRunner.Run(["run", "--scenario", "secretmem-touch", "--cpus", "2", "--pages", "256", .. s_small, "--no-report", "--format", "json"]);
        var big = CliRunner.Run(["run", "--cpus", "32", .. s_small, "--no-report", "--format", "json"]);

        Assert.Equal((0, ""), (small.Code, small.Err));
        Assert.Equal(2, ReportJson.Parse(small.Out).Config["vcpus"]!.GetValue<int>());
        Assert.Equal((0, ""), (big.Code, big.Err));
        Assert.Equal(16, ReportJson.Parse(big.Out).Config["vcpus"]!.GetValue<int>());
    }

    [Fact]
    public void A_sweep_over_cpus_adapts_vcpus_per_run_and_no_report_writes_nothing()
    {
        var (code, output, err) = CliRunner.Run(["sweep", "--vary", "cpus=4,8,16", .. s_small, "--no-report", "--format", "json", "--out", _dir["sweep"]]);

        Assert.Equal((0, ""), (code, err));
        Assert.Equal([4, 8, 16], Reporting.Sweeps.SweepJson.Parse(output).Runs.Select(r => r.Report.Config["vcpus"]!.GetValue<int>()));
        Assert.False(Directory.Exists(_dir["sweep"]));
    }

    [Fact]
    public void Replay_record_writes_the_replayed_run_as_a_trace_that_replays_the_same()
    {
        string first = _dir["first.pstrace"];
        string second = _dir["second.pstrace"];
        var run = CliRunner.Run(["run", "--cpus", "4", "--vcpus", "2", .. s_small, "--no-report", "--format", "json", "--record", first]);
        var replay = CliRunner.Run("replay", first, "--no-report", "--format", "json", "--record", second);
        var again = CliRunner.Run("replay", second, "--no-report", "--format", "json");

        Assert.Equal((0, 0, 0), (run.Code, replay.Code, again.Code));
        Assert.True(File.Exists(second));
        Assert.Equal(ReportJson.Parse(run.Out).Digest, ReportJson.Parse(again.Out).Digest);
    }

    [Fact]
    public void A_cross_field_error_from_a_scenario_file_names_the_file()
    {
        string file = _dir.File("clash.json", """{"cpus": 2, "vcpus": 4}""");

        var alone = CliRunner.Run("run", "--scenario", file, "--no-report");
        var joined = CliRunner.Run("run", "--scenario", file, "--ram", "1G", "--no-report");

        Assert.Equal((2, $"perfsim: {file}: vcpus (4) must be at most cpus (2)\n"), (alone.Code, alone.Err));
        Assert.Equal((2, $"perfsim: {file} and the options: vcpus (4) must be at most cpus (2)\n"), (joined.Code, joined.Err));
    }

    [Fact]
    public void Scenarios_names_the_options_behind_each_letter_and_why_seed_does_nothing_for_secretmem()
    {
        var (code, output, err) = CliRunner.Run("scenarios");

        Assert.Equal((0, ""), (code, err));
        Assert.Contains("N = --pages, P = --vcpus, K = --passes", output, StringComparison.Ordinal);
        Assert.Contains("N = --vms, V = --vcpus, G = --guest-memory, K = --passes", output, StringComparison.Ordinal);
        string secretmem = output[output.IndexOf("secretmem-touch", StringComparison.Ordinal)..output.IndexOf("vm-churn", StringComparison.Ordinal)];
        Assert.Contains("--seed changes nothing here (nothing in it is random", secretmem, StringComparison.Ordinal);
        Assert.Contains("ignores --strategy, --guest-memory", secretmem, StringComparison.Ordinal);
        Assert.Contains("cost_profile", output, StringComparison.Ordinal);
    }
}
