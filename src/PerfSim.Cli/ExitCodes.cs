namespace PerfSim.Cli;

/// <summary>Exit codes, stable for CI scripts.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The run completed and found something: an invariant violation, or a regression.</summary>
    public const int Violation = 1;

    /// <summary>Bad input: options, scripts, scenario or report files.</summary>
    public const int BadInput = 2;
}
