namespace PerfSim.Tracing.Tests;

/// <summary>
/// Tests that enable the process-wide PerfSim EventSource (or rely on nobody enabling it) run one
/// at a time: a session opened by one test would make another's "no listener" test meaningless.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EventSourceCollection
{
    public const string Name = "PerfSim EventSource";
}
