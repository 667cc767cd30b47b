namespace PerfSim.Cli.Tests;

/// <summary>A cost profile made for one architecture is refused on a run of another.</summary>
public class CostProfileArchTests
{
    private static readonly string[] s_small = ["--cpus", "4", "--vcpus", "2", "--ram", "1G", "--guest-memory", "8M", "--no-report"];

    [Theory]
    [InlineData("arm64", "x86_64")]
    [InlineData("arm64-bbml2", "x86_64-invlpgb")]
    [InlineData("x86_64", "arm64")]
    [InlineData("arm64", "arm64-bbml2")]
    public void A_cost_profile_for_another_arch_exits_2_naming_the_file_and_field(string profileArch, string runArch)
    {
        using var costs = new CliRunner.TempFile($$"""{"arch": "{{profileArch}}", "invlpg_ns": 90}""");

        var (code, output, err) = CliRunner.Run(["run", .. s_small, "--arch", runArch, "--cost-profile", costs.Path]);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains(
            $"{costs.Path}: cost profile field 'arch' is {profileArch} but the run is on {runArch} (accepted: {runArch}, or no arch field)",
            err,
            StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_cost_profile_of_the_runs_arch_or_without_arch_is_accepted()
    {
        using var same = new CliRunner.TempFile("""{"arch": "arm64", "tlbi_page_ns": 21}""");
        using var any = new CliRunner.TempFile("""{"tlbi_page_ns": 21}""");

        Assert.Equal(0, CliRunner.Run(["run", .. s_small, "--arch", "arm64", "--cost-profile", same.Path]).Code);
        Assert.Equal(0, CliRunner.Run(["run", .. s_small, "--arch", "arm64", "--cost-profile", any.Path]).Code);
    }

    [Fact]
    public void A_scenario_files_cost_profile_is_checked_against_the_files_arch_wherever_it_stands()
    {
        using var file = new CliRunner.TempFile("""{"cost_profile": {"arch": "arm64"}, "arch": "arm64"}""");

        Assert.Equal(0, CliRunner.Run(["run", "--scenario", file.Path, .. s_small]).Code);
    }

    [Fact]
    public void An_arch_option_that_contradicts_the_scenario_files_cost_profile_exits_2()
    {
        using var file = new CliRunner.TempFile("""{"arch": "arm64", "cost_profile": {"arch": "arm64"}}""");

        var (code, _, err) = CliRunner.Run(["run", "--scenario", file.Path, .. s_small, "--arch", "x86_64"]);

        Assert.Equal(2, code);
        Assert.Contains("cost_profile: cost profile field 'arch' is arm64 but the run is on x86_64 (accepted: x86_64, or no arch field)", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }
}
