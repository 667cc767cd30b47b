using System.Diagnostics;
using PerfSim.Core.Events;
using PerfSim.Core.Kernel;
using PerfSim.Core.Memory;
using PerfSim.Core.Timeline;

namespace PerfSim.Engine.Simulation;

/// <summary>
/// The engine: runs the actors of a phase on host threads, quantum by quantum, with results that
/// depend on the seed and configuration only (docs/engine.md).
/// </summary>
/// <remarks>
/// <para>Each simulated CPU with actors is a <see cref="CpuLane"/>; each host thread owns a block of
/// lanes in CPU order. A quantum is a span of simulated time ending at <c>end</c>:</para>
/// <list type="number">
/// <item><b>Parallel round</b>: every lane runs its steps while its clock is before <c>end</c> and
/// its next step is CPU-local (<see cref="Actor.NextStepIsLocal"/>), each on its own host thread;
/// the kernel is in quantum mode, so such steps touch only their CPU's state and log what orders
/// CPUs against each other.</item>
/// <item><b>Serial steps</b>: lanes stopped at a step on shared state (a per-CPU list refill with
/// no staged batch, a split, a full flush, the background load, population through the mermap)
/// take that one step each, in (clock, CPU) order, on one thread; then another parallel round,
/// until every lane reached <c>end</c>.</item>
/// <item><b>Close</b>: <see cref="QuantumSession.CloseQuantum"/> applies the quantum's invalidations of
/// other CPUs' TLBs, requests the next per-CPU list batch of each CPU that refilled, hands the logs
/// to the weave, and moves the clocks by the delays the weave <see cref="QuantumSession.WeaveDepth"/>
/// quanta back found.</item>
/// <item><b>Weave</b>, beside the next quanta: on one thread (or more threads than cores), the
/// caller draws the requested batches and weaves what was closed (lock waits, cross calls and events
/// in simulated-time order, latencies) in the first round, before its own lanes. Otherwise the first worker does both while the caller
/// and the other workers run the rounds, and takes lanes once it is done; the caller waits for the
/// draw before the quantum's first serial step and its close, and for a weave at the close that
/// needs its delays (<see cref="HostCrew"/>).</item>
/// </list>
/// <para>Which steps are parallel, the order of serial steps and the weave depend only on simulated
/// state, never on which host thread ran a lane or when: <c>--threads</c> changes the wall time
/// only. A phase starts when the previous one ended (every clock is advanced to the latest).</para>
/// </remarks>
internal sealed class Simulator(SimContext context, Action<double>? progress)
{
    private long _steps;
    private long _phases;

    public long Steps => _steps;

    public long Now => context.Kernel.Clock(0);

    /// <summary>Runs one phase; returns when every actor is done.</summary>
    public void RunPhase(IReadOnlyList<Actor> actors, long expectedSteps = 0)
    {
        SimKernel kernel = context.Kernel;
        AlignClocks();
        context.Emit(0, SimEventKind.Phase, 0, ++_phases);
        CpuLane[] lanes = [.. actors.GroupBy(a => a.Cpu).OrderBy(g => g.Key).Select(g => new CpuLane(g.Key, [.. g]))];
        AssignHostCpus(kernel, actors);
        int threads = Math.Clamp(context.Config.Threads, 1, Math.Max(1, lanes.Length));
        long quantum = context.Config.QuantumNs;
        long reportEvery = Math.Max(1, expectedSteps / 100);
        long nextReport = reportEvery;
        long stepsBefore = _steps;
        var parked = new List<CpuLane>(lanes.Length);
        // Disposing the session (last, also on an exception) weaves what is left.
        using (QuantumSession session = kernel.BeginQuanta(context))
        using (var crew = new HostCrew(threads, lanes, context, session))
        {
            long end = Now + quantum;
            while (NextEnd(kernel, lanes, ref end, quantum))
            {
                RunQuantum(kernel, crew, lanes, parked, end);

                // The draw must be done (the close ends the staging), and the weave of the quantum
                // WeaveDepth back; later ones may go on.
                crew.AwaitDraw();
                crew.AwaitWeaves(session.WeaveDepth - 1);
                session.CloseQuantum(end);
                crew.HandWeave();
                long steps = 0;
                foreach (CpuLane lane in lanes)
                {
                    steps += lane.Steps;
                }

                _steps = stepsBefore + steps;
                context.Feed.RefreshIfDue(_steps);
                if (progress is not null && expectedSteps > 0 && _steps - stepsBefore >= nextReport)
                {
                    progress(Math.Min(1.0, (double)(_steps - stepsBefore) / expectedSteps));
                    nextReport += reportEvery;
                }

                end += quantum;
            }
        }

        AlignClocks();
        context.Feed.Refresh();
    }

    /// <summary>Who runs where in this phase, for the price of an IPI (<see cref="HostCpus"/>): a CPU
    /// with a vCPU is in guest mode between its faults, one with another actor or among the
    /// configured busy CPUs runs host work, the rest idle under the configured policy.</summary>
    private void AssignHostCpus(SimKernel kernel, IReadOnlyList<Actor> actors)
    {
        var roles = new CpuRole[kernel.CpuCount];
        var hasActor = new bool[kernel.CpuCount];
        foreach (Actor a in actors)
        {
            hasActor[a.Cpu] = true;
            roles[a.Cpu] = roles[a.Cpu] == CpuRole.Vcpu ? CpuRole.Vcpu : a.Role;
        }

        int busy = context.Config.BusyCpus;
        for (int cpu = kernel.CpuCount - 1; cpu >= 0; cpu--)
        {
            if (!hasActor[cpu])
            {
                roles[cpu] = busy-- > 0 ? CpuRole.Host : CpuRole.Idle;
            }
        }

        kernel.Host.Idle = context.Config.Idle;
        kernel.Host.ApicMode = context.Config.X2Apic;
        kernel.Host.Assign(roles, hasActor);
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

    /// <summary>False when every lane is done; else moves <paramref name="end"/> past quanta in which
    /// no lane would run (a CPU busy with one long step), so idle quanta cost nothing.</summary>
    private static bool NextEnd(SimKernel kernel, CpuLane[] lanes, ref long end, long quantum)
    {
        long earliest = long.MaxValue;
        foreach (CpuLane lane in lanes)
        {
            if (!lane.Done)
            {
                earliest = Math.Min(earliest, kernel.Clock(lane.Cpu));
            }
        }

        if (earliest == long.MaxValue)
        {
            return false;
        }

        if (earliest >= end)
        {
            end += (earliest - end) / quantum * quantum + quantum;
        }

        return true;
    }

    private void RunQuantum(SimKernel kernel, HostCrew crew, CpuLane[] lanes, List<CpuLane> parked, long end)
    {
        bool first = true;
        while (true)
        {
            crew.RunRound(end, first);

            first = false;
            parked.Clear();
            foreach (CpuLane lane in lanes)
            {
                if (lane.Parked)
                {
                    parked.Add(lane);
                }
            }

            if (parked.Count == 0)
            {
                return;
            }

            // A serial step may refill from the zone, which takes a batch once drawn.
            crew.AwaitDraw();
            SortByKey(kernel, parked);
            foreach (CpuLane lane in parked)
            {
                lane.StepAlone(context);
            }
        }
    }

    /// <summary>Insertion sort by <see cref="Key"/>: a few lanes per round, and no comparison delegate
    /// (a lambda capturing the kernel allocated a closure every quantum).</summary>
    private static void SortByKey(SimKernel kernel, List<CpuLane> lanes)
    {
        for (int i = 1; i < lanes.Count; i++)
        {
            CpuLane lane = lanes[i];
            long key = Key(kernel, lane);
            int j = i - 1;
            for (; j >= 0 && Key(kernel, lanes[j]) > key; j--)
            {
                lanes[j + 1] = lanes[j];
            }

            lanes[j + 1] = lane;
        }
    }

    /// <summary>Clock-major, CPU-minor ordering key: 2^53 ns (104 days) of simulated time and up to
    /// 1024 CPUs fit in a long.</summary>
    private static long Key(SimKernel kernel, CpuLane lane)
    {
        long clockNs = kernel.Clock(lane.Cpu);
        Debug.Assert(clockNs < (1L << 53), "simulated clock beyond 2^53 ns");
        return (clockNs << 10) | (long)lane.Cpu;
    }
}

/// <summary>The actors bound to one simulated CPU, taking steps in turn.</summary>
internal sealed class CpuLane(int cpu, List<Actor> actors)
{
    private int _next;

    public int Cpu { get; } = cpu;

    public bool Done => actors.Count == 0;

    /// <summary>Stopped before a step on shared state; the serial part takes it.</summary>
    public bool Parked { get; private set; }

    public long Steps { get; private set; }

    /// <summary>Parallel round: CPU-local steps while the clock is before <paramref name="end"/>.</summary>
    public void RunLocal(SimContext context, long end)
    {
        ref long clock = ref context.Kernel.Clock(Cpu);
        while (actors.Count > 0 && clock < end)
        {
            if (!actors[_next].NextStepIsLocal(context))
            {
                Parked = true;
                return;
            }

            Step(context);
        }
    }

    /// <summary>Serial part: the step the lane stopped at.</summary>
    public void StepAlone(SimContext context)
    {
        Parked = false;
        Step(context);
    }

    private void Step(SimContext context)
    {
        Steps++;
        if (actors[_next].Step(context))
        {
            _next = (_next + 1) % actors.Count;
        }
        else
        {
            actors.RemoveAt(_next);
            _next = actors.Count == 0 ? 0 : _next % actors.Count;
        }
    }
}

/// <summary>
/// The host threads of a phase: the caller plus <c>threads − 1</c> workers, each owning a
/// contiguous block of lanes and, once through it, taking lanes from the far end of the others'
/// blocks. Rounds are short, so threads spin between them, then park (<see cref="Backoff"/>); a round
/// ends when its lanes have run, whichever threads ran them. The threads exist only while a phase runs.
/// </summary>
/// <remarks>
/// <para>Which thread runs a lane changes no result (a lane's round touches its CPU's state only).
/// Taking lanes from others balances rounds that a fixed split did not: with two threads the
/// worker's lanes ran ~30% slower than the caller's (they miss the cache on what the serial part
/// wrote on the other core), so the caller sat waiting for it.</para>
/// <para><b>The weave on a worker.</b> With more than one thread (and a core for each), the first
/// worker draws each quantum's staged batches when its first round starts and weaves each closed
/// quantum (<see cref="QuantumSession.DrawStagedBatches"/>, <see cref="QuantumSession.Weave"/>),
/// while the caller runs the rounds, serial steps and closes, which touch neither the weave's state
/// nor, once the draw is done, the zone's; then it takes lanes. A close waits only for the weave
/// <see cref="QuantumSession.WeaveDepth"/> quanta back, so a weave runs beside the rounds of the
/// next two quanta. When the worker has not come to a job the caller needs, the caller runs it
/// (the worker is late, or descheduled). When the caller ran every weave itself, the quantum's
/// serial steps and later rounds waited for it, and the worker waited with them (0.7–1.2 s of
/// 3.5–3.9 s two-thread runs); when the close waited for the weave of the quantum just before,
/// the caller waited 14% of a two-thread run for it and the worker 10% for the close.</para>
/// </remarks>
internal sealed class HostCrew : IDisposable
{
    /// <summary>One block's cursors per 128 bytes: owner and thieves CAS them, and neighbouring
    /// blocks' cursors on one cache line would make every take a miss for the other thread.</summary>
    private const int CursorStride = NativeArena.CacheLine / sizeof(long);

    private readonly CpuLane[] _lanes;
    private readonly long[] _cursors;
    private readonly SimContext _context;
    private readonly Thread[] _workers;
    private readonly int _threads;
    private long _end;
    private int _generation;

    /// <summary>Lanes of the current round not yet run. The round is over when it reaches zero,
    /// whichever threads ran them: a worker the host has not scheduled holds nobody up (its lanes
    /// are taken from the back by the others), which is what keeps <c>--threads</c> above the core
    /// count cheap.</summary>
    private int _lanesLeft;
    private volatile bool _stop;

    private readonly QuantumSession _session;

    /// <summary>The session's draw and weave as delegates made once (a method group makes a new
    /// delegate at every use: two allocations per quantum).</summary>
    private readonly Action _draw;
    private readonly Action _weave;

    /// <summary><see cref="_drawPending"/> is 1 while the current quantum's draw waits for a thread
    /// to take it, <see cref="_drawn"/> 1 once it is done (both set when a quantum starts).</summary>
    private int _drawPending;
    private int _drawn = 1;

    /// <summary>Closed quanta handed to the weave (by the caller) and woven (by whoever took each,
    /// one at a time: <see cref="_weaving"/>).</summary>
    private int _weavesHanded;
    private int _weavesDone;
    private int _weaving;

    /// <summary>Whether waits spin before parking: only while every host thread has a core.</summary>
    private readonly bool _spin;

    /// <summary>Whether the first worker draws and weaves: with more threads than cores it is
    /// descheduled too often while the caller waits for it, so the caller does both when a quantum
    /// starts, beside the workers' lanes.</summary>
    private readonly bool _weaveOnWorker;
    private Exception? _failure;

    public HostCrew(int threads, CpuLane[] lanes, SimContext context, QuantumSession session)
    {
        _threads = threads;
        _session = session;
        _draw = session.DrawStagedBatches;
        _weave = session.Weave;
        _spin = threads <= Environment.ProcessorCount;
        _weaveOnWorker = threads > 1 && _spin;
        _lanes = lanes;
        _context = context;
        _cursors = new long[threads * CursorStride];
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _workers[i] = new Thread(() => Work(index)) { IsBackground = true, Name = $"perfsim-cpu-lanes-{index}" };
            _workers[i].Start();
        }
    }

    /// <summary>One parallel round: every thread runs its lanes up to <paramref name="end"/>. The
    /// first round of a quantum (<paramref name="quantumStarts"/>) also draws its staged batches and
    /// weaves what was handed: by the caller before its own lanes when no worker is to (one thread,
    /// or more threads than cores), else by the first worker beside the rounds
    /// (<see cref="AwaitDraw"/>, <see cref="AwaitWeaves"/>).</summary>
    public void RunRound(long end, bool quantumStarts)
    {
        if (quantumStarts && _weaveOnWorker)
        {
            // Released with the round (the generation's increment is a full fence).
            _drawn = 0;
            _drawPending = 1;
        }

        using ParallelRound round = _session.BeginParallelRound();
        _end = end;
        Volatile.Write(ref _lanesLeft, _lanes.Length);
        for (int i = 0; i < _threads; i++)
        {
            // Released after _end: a late worker that takes one of these lanes runs it to this end.
            Volatile.Write(ref _cursors[i * CursorStride], Cursor(BlockStart(i), BlockStart(i + 1)));
        }

        Interlocked.Increment(ref _generation);
        Backoff.WakeAll();
        if (quantumStarts && !_weaveOnWorker)
        {
            // Beside the workers' lanes (a round takes nothing from the zone and reads no weave state).
            Run(_draw);
            while (TryWeave())
            {
            }
        }

        RunShare(0);
        var wait = new Backoff(Stopwatch.GetTimestamp(), _spin);
        while (Volatile.Read(ref _lanesLeft) != 0)
        {
            wait.Once();
        }

        ThrowIfFailed();
    }

    /// <summary>Hands the quantum just closed to the weave (the first worker's, or the caller's
    /// when the next quantum starts).</summary>
    public void HandWeave()
    {
        Volatile.Write(ref _weavesHanded, _weavesHanded + 1);
        if (_weaveOnWorker)
        {
            Backoff.WakeAll();
        }
    }

    /// <summary>Waits until the quantum's staged batches are drawn (a serial step may take one);
    /// draws them itself when the worker has not come to it.</summary>
    public void AwaitDraw()
    {
        if (Volatile.Read(ref _drawn) == 0 && !TryDraw())
        {
            var wait = new Backoff(Stopwatch.GetTimestamp(), _spin);
            while (Volatile.Read(ref _drawn) == 0)
            {
                wait.Once();
            }
        }

        ThrowIfFailed();
    }

    /// <summary>Waits until at most <paramref name="pending"/> handed weaves are not done; weaves
    /// itself whenever none is running (the worker is late, or descheduled).</summary>
    public void AwaitWeaves(int pending)
    {
        if (_weavesHanded - Volatile.Read(ref _weavesDone) <= pending)
        {
            ThrowIfFailed();
            return;
        }

        var wait = new Backoff(Stopwatch.GetTimestamp(), _spin);
        while (_weavesHanded - Volatile.Read(ref _weavesDone) > pending)
        {
            if (!TryWeave())
            {
                wait.Once();
            }
        }

        ThrowIfFailed();
    }

    /// <summary>Takes the quantum's draw if no thread has: true when this call ran it.</summary>
    private bool TryDraw()
    {
        if (Interlocked.Exchange(ref _drawPending, 0) == 0)
        {
            return false;
        }

        Run(_draw);
        Volatile.Write(ref _drawn, 1);
        Backoff.WakeAll();
        return true;
    }

    /// <summary>Weaves the oldest handed quantum if no thread is weaving: true when this call wove
    /// one. Weaves go one at a time, in the order handed.</summary>
    private bool TryWeave()
    {
        if (!WeavePending || Interlocked.CompareExchange(ref _weaving, 1, 0) != 0)
        {
            return false;
        }

        // Looked at again under the flag: another thread may have woven the last one meanwhile.
        bool wove = WeavePending;
        if (wove)
        {
            Run(_weave);
            Volatile.Write(ref _weavesDone, _weavesDone + 1);
        }

        Volatile.Write(ref _weaving, 0);
        if (wove)
        {
            Backoff.WakeAll();
        }

        return wove;
    }

    /// <summary>A handed quantum is not woven yet.</summary>
    private bool WeavePending => Volatile.Read(ref _weavesDone) < Volatile.Read(ref _weavesHanded);

    /// <summary>Runs a draw or a weave; a failure is kept for the caller, and the job still counts
    /// as done, so no wait hangs on it.</summary>
    private void Run(Action job)
    {
        try
        {
            job();
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    public void Dispose()
    {
        // A weave still running finishes first (the worker checks the stop only between rounds).
        _stop = true;
        Backoff.WakeAll();
        foreach (Thread t in _workers)
        {
            t.Join();
        }
    }

    /// <summary>A block's cursors: the next lane from the front (owner) in the low half, one past
    /// the last lane not yet taken from the back (thieves) in the high half.</summary>
    private static long Cursor(int front, int back) => ((long)back << 32) | (uint)front;

    /// <summary>Where thread <paramref name="index"/>'s block starts. A contiguous block per thread:
    /// neighbouring CPUs' per-CPU state shares cache lines, so interleaving lanes across threads
    /// would make them fight over those lines.</summary>
    private int BlockStart(int index) => (int)((long)_lanes.Length * index / _threads);

    /// <summary>Runs lanes of the current round, its own block's from the front and then the others'
    /// from the back, and counts them off <see cref="_lanesLeft"/>. After a failure the remaining
    /// lanes are taken and counted but not run, so the round still ends.</summary>
    private void RunShare(int index)
    {
        int ran = 0;
        int lane;
        while ((lane = Take(index, fromFront: true)) >= 0)
        {
            RunLane(lane);
            ran++;
        }

        for (int k = 1; k < _threads; k++)
        {
            int victim = (index + k) % _threads;
            while ((lane = Take(victim, fromFront: false)) >= 0)
            {
                RunLane(lane);
                ran++;
            }
        }

        if (ran > 0 && Interlocked.Add(ref _lanesLeft, -ran) == 0)
        {
            Backoff.WakeAll();
        }
    }

    private void RunLane(int lane)
    {
        if (Volatile.Read(ref _failure) is not null)
        {
            return;
        }

        try
        {
            _lanes[lane].RunLocal(_context, _end);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
    }

    /// <summary>Takes a lane of block <paramref name="block"/> (its owner from the front, others from
    /// the back), or −1 when none is left.</summary>
    private int Take(int block, bool fromFront)
    {
        ref long cursor = ref _cursors[block * CursorStride];
        while (true)
        {
            long seen = Volatile.Read(ref cursor);
            int front = (int)seen;
            int back = (int)(seen >> 32);
            if (front >= back)
            {
                return -1;
            }

            long taken = fromFront ? Cursor(front + 1, back) : Cursor(front, back - 1);
            if (Interlocked.CompareExchange(ref cursor, taken, seen) == seen)
            {
                return fromFront ? front : back - 1;
            }
        }
    }

    private void Work(int index)
    {
        int seen = 0;
        bool weaves = index == 1 && _weaveOnWorker;
        while (true)
        {
            var wait = new Backoff(Stopwatch.GetTimestamp(), _spin);
            while (Volatile.Read(ref _generation) == seen && !_stop && !(weaves && HasJob()))
            {
                wait.Once();
            }

            if (_stop)
            {
                return;
            }

            // The draw first (a serial step of the quantum open now may wait for it), then every
            // weave handed; meanwhile the caller may have gone on to later rounds and quanta, so
            // look at the generation after, and join whichever round is open.
            while (weaves && (TryDraw() | TryWeave()))
            {
            }

            int generation = Volatile.Read(ref _generation);
            if (generation != seen)
            {
                seen = generation;
                RunShare(index);
            }
        }
    }

    /// <summary>A draw or a weave is waiting for the first worker (not one the caller is running).</summary>
    private bool HasJob() => Volatile.Read(ref _drawPending) != 0 || (Volatile.Read(ref _weaving) == 0 && WeavePending);
}
