using System.Diagnostics;
using PerfSim.Core.Events;
using PerfSim.Core.Kernel;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// The event loop: runs the actors of a phase in simulated-time order until they are all done.
/// </summary>
/// <remarks>
/// <para>Determinism: the next step is always taken by the actor whose CPU clock is lowest, ties
/// broken by CPU number, so a run is a pure function of the configuration and seed (per-actor RNG
/// streams are derived from the root seed and the CPU). Host threads cannot change the order: the
/// kernel's shared state is only ever touched in this order (docs/engine.md explains why this
/// version executes steps on one host thread and where parallelism goes next).</para>
/// <para>Phases: a phase starts when the previous one ended (every CPU's clock is advanced to the
/// latest clock), as when a VM boots after its memory was populated.</para>
/// </remarks>
internal sealed class Simulator(SimContext context, Action<double>? progress)
{
    private readonly PriorityQueue<Actor, long> _ready = new();
    private long _steps;
    private long _phases;

    public long Steps => _steps;

    /// <summary>Runs one phase; returns when every actor is done.</summary>
    public void RunPhase(IReadOnlyList<Actor> actors, long expectedSteps = 0)
    {
        SimKernel kernel = context.Kernel;
        AlignClocks();
        context.Emit(0, SimEventKind.Phase, 0, ++_phases);
        foreach (Actor a in actors)
        {
            _ready.Enqueue(a, Key(kernel.Clock(a.Cpu), a.Cpu));
        }

        long reportEvery = Math.Max(1, expectedSteps / 100);
        while (_ready.TryDequeue(out Actor? actor, out _))
        {
            bool more = actor.Step(context);
            _steps++;
            if ((_steps & (EventFeed.StepsPerRefresh - 1)) == 0)
            {
                context.Feed.Refresh();
            }

            if (more)
            {
                _ready.Enqueue(actor, Key(kernel.Clock(actor.Cpu), actor.Cpu));
            }

            if (progress is not null && _steps % reportEvery == 0 && expectedSteps > 0)
            {
                progress(Math.Min(1.0, (double)_steps / expectedSteps));
            }
        }

        AlignClocks();
        context.Feed.Refresh();
    }

    /// <summary>Every CPU's clock to the latest one: the end of a phase is a synchronisation point.</summary>
    public void AlignClocks()
    {
        SimKernel kernel = context.Kernel;
        long latest = 0;
        for (int cpu = 0; cpu < kernel.CpuCount; cpu++)
        {
            latest = Math.Max(latest, kernel.Clock(cpu));
        }

        for (int cpu = 0; cpu < kernel.CpuCount; cpu++)
        {
            kernel.Clock(cpu) = latest;
        }
    }

    public long Now => context.Kernel.Clock(0);

    /// <summary>Clock-major, CPU-minor ordering key: 2^53 ns (104 days) of simulated time and up to
    /// 1024 CPUs fit in a long.</summary>
    private static long Key(long clockNs, int cpu)
    {
        Debug.Assert(clockNs < (1L << 53), "simulated clock beyond 2^53 ns");
        return (clockNs << 10) | (long)cpu;
    }
}
