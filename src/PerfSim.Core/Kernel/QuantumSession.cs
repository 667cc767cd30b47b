namespace PerfSim.Core.Kernel;

/// <summary>
/// One stretch of quantum mode (docs/engine.md), begun by the engine for a phase
/// (<see cref="SimKernel.BeginQuanta"/>) and disposed at its end, which weaves what is left. It is
/// the only switch of quantum mode: it marks the parallel rounds, closes and weaves the quanta, and
/// sets the flush engine's and the TLB model's deferred modes while it is open.
/// </summary>
public sealed class QuantumSession : IDisposable
{
    private readonly SimKernel _kernel;
    private bool _disposed;

    internal QuantumSession(SimKernel kernel) => _kernel = kernel;

    /// <summary>True inside <see cref="BeginParallelRound"/>'s scope: host threads run CPUs at once,
    /// so a step on shared functional state throws (its order would depend on host scheduling).</summary>
    public bool InParallelRound { get; private set; }

    /// <summary>Marks a parallel round until the returned scope is disposed.</summary>
    public ParallelRound BeginParallelRound()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        InParallelRound = true;
        return new ParallelRound(this);
    }

    /// <summary>Ends the quantum ending at <paramref name="endNs"/> (<see cref="SimKernel"/>'s close:
    /// deferred invalidations, IPI handler time, the logs handed to the weave). Single-threaded.</summary>
    public void CloseQuantum(long endNs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _kernel.CloseQuantum(endNs);
    }

    /// <summary>Weaves the oldest closed quantum and draws the staged per-CPU list batches (<see cref="Weave"/>
    /// and <see cref="DrawStagedBatches"/>, which touch disjoint state); may run beside the next
    /// quantum's first round.</summary>
    public void WeaveClosed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _kernel.WeaveClosed();
    }

    /// <summary>Draws the per-CPU list batches the close requested. May run beside a parallel round
    /// and beside <see cref="Weave"/>; a serial step must wait for it (a refill takes a drawn batch).</summary>
    public void DrawStagedBatches()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _kernel.Allocator.DrawStagedBatches();
    }

    /// <summary>Weaves the oldest closed quantum not woven. It touches nothing a round, a serial step
    /// or a close touches (the closed logs, the weave's side of each lane, the simulated locks, the
    /// host CPUs' call queues, the latency and event sinks), so it may run on one host thread while
    /// others run the next quanta's rounds, serial steps and closes; the close
    /// <see cref="WeaveDepth"/> quanta after its own must wait for it. One thread at a time.</summary>
    public void Weave()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _kernel.Weave();
    }

    /// <summary>How many closed quanta may wait for their weave (<see cref="KernelOptions.WeaveDepth"/>).</summary>
    public int WeaveDepth => _kernel.Options.WeaveDepth;

    /// <summary>Weaves everything still logged and turns quantum mode off.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        InParallelRound = false;
        _kernel.EndQuanta(this);
    }

    internal void EndParallelRound() => InParallelRound = false;
}

/// <summary>The scope of one parallel round of a <see cref="QuantumSession"/>.</summary>
public readonly struct ParallelRound : IDisposable, IEquatable<ParallelRound>
{
    private readonly QuantumSession? _session;

    internal ParallelRound(QuantumSession session) => _session = session;

    public void Dispose() => _session?.EndParallelRound();

    public bool Equals(ParallelRound other) => ReferenceEquals(_session, other._session);

    public override bool Equals(object? obj) => obj is ParallelRound other && Equals(other);

    public override int GetHashCode() => _session?.GetHashCode() ?? 0;

    public static bool operator ==(ParallelRound left, ParallelRound right) => left.Equals(right);

    public static bool operator !=(ParallelRound left, ParallelRound right) => !left.Equals(right);
}
