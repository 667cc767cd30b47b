namespace PerfSim.Cli.Tests;

/// <summary>The bad-input contract: exit 2, one line on standard error containing the expected
/// text, no stack trace, nothing on standard output.</summary>
internal static class BadInputAssert
{
    public static void Refused((int Code, string Out, string Err) result, string expected)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}: {result.Err}");
        Assert.Contains(expected, result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }
}
