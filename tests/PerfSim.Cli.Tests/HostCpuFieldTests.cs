namespace PerfSim.Cli.Tests;

/// <summary>The fields that say who runs where on the host (docs/tlb-flush-costs.md §8): checked
/// at the input edge with one line naming the field and the accepted range.</summary>
public sealed class HostCpuFieldTests
{
    [Theory]
    [InlineData(new[] { "--cpus", "8", "--busy-cpus", "9" }, "perfsim: options: busy_cpus (9) must be at most cpus (8)\n")]
    [InlineData(new[] { "--idle", "c6" }, "perfsim: --idle: 'c6' is not one of intel_idle, poll, haltpoll\n")]
    [InlineData(new[] { "--x2apic", "logical" }, "perfsim: --x2apic: 'logical' is not one of cluster, physical\n")]
    [InlineData(new[] { "--think-ns", "-5" }, "perfsim: --think-ns: '-5' is not an integer from 0 to 100000000\n")]
    public void A_bad_host_cpu_field_is_one_line_and_exit_2(string[] args, string expected)
    {
        var (code, output, err) = CliRunner.Run(["run", .. args, "--no-report"]);

        Assert.Equal((2, "", expected), (code, output, err));
    }
}
