using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using PerfSim.Core.Events;

namespace PerfSim.Tracing.Files;

/// <summary>Options for <see cref="BinaryTraceWriter"/>.</summary>
public sealed record BinaryTraceWriterOptions
{
    /// <summary>Events each producer thread may have in flight (a power of two). 16K events is
    /// 512 KiB per simulated CPU: several milliseconds of a busy CPU, enough to ride out a slow disk write.</summary>
    public int EventsPerThread { get; init; } = 16 * 1024;

    /// <summary>Encoded bytes the pipe may hold before the pump waits for the stream (and producers
    /// start dropping once their buffers fill).</summary>
    public long PauseWriterThreshold { get; init; } = 4 << 20;

    /// <summary>Where the pump resumes after a pause.</summary>
    public long ResumeWriterThreshold { get; init; } = 2 << 20;

    /// <summary>The run configuration, stored in the header so a replay knows what produced the trace.</summary>
    public string RunConfigJson { get; init; } = "";

    /// <summary>Leave the stream open on dispose.</summary>
    public bool LeaveOpen { get; init; }
}

/// <summary>
/// Records <see cref="SimEvent"/>s to a compact binary trace (docs/trace-format.md). <see cref="Emit"/>
/// is called from any number of simulation threads, never blocks and never allocates after a thread's
/// first event: each thread owns a bounded single-producer ring, and one pump drains all rings into a
/// <see cref="Pipe"/> whose reader copies to the stream. When the stream falls behind, the pipe
/// pauses the pump, rings fill, and further events are dropped and counted (<see cref="Drops"/>, and
/// the file's end marker).
/// </summary>
/// <remarks>Events from different threads interleave in blocks; each record carries its own time and CPU.
/// Call <see cref="DisposeAsync"/> after all producers have stopped: it drains, writes the end marker
/// and completes the stream. Events emitted after that are ignored.</remarks>
public sealed class BinaryTraceWriter : ISimEventSink, IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly BinaryTraceWriterOptions _options;
    private readonly Pipe _pipe;
    private readonly ThreadLocal<ProducerRing> _ring;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly object _registrationLock = new();
    private readonly Task _pump;
    private readonly Task _copy;
    private readonly Crc32 _crc = new(); // the pump's: the checksum of the unit being written
    private ProducerRing[] _rings = [];
    private int _wakeRequested;
    private int _completing;
    private long _written;

    /// <summary>Starts writing the header to <paramref name="stream"/> and the pump that follows it.</summary>
    public BinaryTraceWriter(Stream stream, BinaryTraceWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _options = options ?? new BinaryTraceWriterOptions();
        if (_options.EventsPerThread < 2 || !int.IsPow2(_options.EventsPerThread))
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.EventsPerThread, "EventsPerThread must be a power of two ≥ 2.");
        }

        _pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: _options.PauseWriterThreshold,
            resumeWriterThreshold: _options.ResumeWriterThreshold,
            useSynchronizationContext: false));
        _ring = new ThreadLocal<ProducerRing>(RegisterRing);
        _copy = Task.Run(CopyAsync);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Events dropped so far because the calling thread's ring was full.</summary>
    public long Drops
    {
        get
        {
            long drops = 0;
            foreach (ProducerRing ring in Volatile.Read(ref _rings))
            {
                drops += ring.Drops;
            }

            return drops;
        }
    }

    /// <summary>Events encoded into the pipe so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Queues <paramref name="e"/> on the calling thread's ring, or drops and counts it when the ring is full.</summary>
    public void Emit(in SimEvent e)
    {
        // A late event after DisposeAsync began is ignored rather than thrown at the simulation.
        if (Volatile.Read(ref _completing) != 0)
        {
            return;
        }

        ProducerRing ring = _ring.Value!;
        if (ring.TryWrite(in e) && ring.ShouldWakePump())
        {
            WakePump();
        }
    }

    /// <summary>Drains every ring, writes the end marker (record and drop counts), flushes and completes the stream.</summary>
    /// <remarks>Rethrows the stream's exception if writing failed.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _completing, 1) == 0)
        {
            _wake.Release();
        }

        try
        {
            await _pump.ConfigureAwait(false);
            await _copy.ConfigureAwait(false);
        }
        finally
        {
            _ring.Dispose();
            _wake.Dispose();
            if (!_options.LeaveOpen)
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private ProducerRing RegisterRing()
    {
        var ring = new ProducerRing(_options.EventsPerThread);
        lock (_registrationLock)
        {
            // Copy-on-write: the pump reads the array without a lock.
            Volatile.Write(ref _rings, [.. _rings, ring]);
        }

        return ring;
    }

    private void WakePump()
    {
        // One release per pump wake-up, however many producers ask.
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Release();
        }
    }

    private async Task CopyAsync()
    {
        try
        {
            await _pipe.Reader.CopyToAsync(_stream).ConfigureAwait(false);
            await _stream.FlushAsync().ConfigureAwait(false);
            await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The pump sees IsCompleted on its next flush and stops; DisposeAsync rethrows.
            await _pipe.Reader.CompleteAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    private async Task PumpAsync()
    {
        PipeWriter writer = _pipe.Writer;
        WriteHeader(writer);
        while (true)
        {
            // Read the flag before draining: a pass that starts after completion and finds nothing
            // proves everything emitted before DisposeAsync is in the pipe.
            bool completing = Volatile.Read(ref _completing) != 0;
            Volatile.Write(ref _wakeRequested, 0);
            long drained = 0;
            foreach (ProducerRing ring in Volatile.Read(ref _rings))
            {
                drained += DrainRing(ring, writer);
            }

            if (drained > 0)
            {
                // Awaits while the pipe is over PauseWriterThreshold: this is where back-pressure lands.
                FlushResult result = await writer.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted)
                {
                    return; // The stream failed; CopyAsync holds the exception.
                }
            }
            else if (completing)
            {
                break;
            }
            else
            {
                // Producers wake the pump every half ring; the timeout flushes trickles.
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(10)).ConfigureAwait(false);
            }
        }

        WriteEnd(writer, Written, Drops);
        await writer.FlushAsync().ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    private void WriteHeader(PipeWriter writer)
    {
        byte[] config = Encoding.UTF8.GetBytes(_options.RunConfigJson);
        Span<byte> span = writer.GetSpan(BinaryTraceFormat.Magic.Length + 1 + BinaryTraceFormat.MaxVarintBytes);
        BinaryTraceFormat.Magic.CopyTo(span);
        int n = BinaryTraceFormat.Magic.Length;
        span[n++] = BinaryTraceFormat.Version;
        n += BinaryTraceFormat.WriteVarint(span[n..], (ulong)config.Length);
        Checked(writer, span, n);
        writer.Write(config);
        _crc.Append(config);
        WriteChecksum(writer);
    }

    private void WriteEnd(PipeWriter writer, long records, long drops)
    {
        Span<byte> span = writer.GetSpan(1 + (2 * BinaryTraceFormat.MaxVarintBytes));
        span[0] = BinaryTraceFormat.EndTag;
        int n = 1;
        n += BinaryTraceFormat.WriteVarint(span[n..], (ulong)records);
        n += BinaryTraceFormat.WriteVarint(span[n..], (ulong)drops);
        Checked(writer, span, n);
        WriteChecksum(writer);
    }

    /// <summary>Commits <paramref name="length"/> bytes of <paramref name="span"/> into the unit's checksum.</summary>
    private void Checked(PipeWriter writer, Span<byte> span, int length)
    {
        _crc.Append(span[..length]);
        writer.Advance(length);
    }

    /// <summary>Closes a unit (header, block, end marker) with the CRC-32 of its bytes.</summary>
    private void WriteChecksum(PipeWriter writer)
    {
        Span<byte> span = writer.GetSpan(BinaryTraceFormat.ChecksumBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(span, _crc.GetCurrentHashAsUInt32());
        _crc.Reset();
        writer.Advance(BinaryTraceFormat.ChecksumBytes);
    }

    /// <summary>Encodes everything in <paramref name="ring"/> as one block; returns the event count.</summary>
    private long DrainRing(ProducerRing ring, PipeWriter writer)
    {
        ReadOnlySpan<SimEvent> first = ring.PeekFirst(out ReadOnlySpan<SimEvent> second);
        int count = first.Length + second.Length;
        if (count == 0)
        {
            return 0;
        }

        Span<byte> span = writer.GetSpan(1 + BinaryTraceFormat.MaxVarintBytes);
        span[0] = BinaryTraceFormat.BlockTag;
        Checked(writer, span, 1 + BinaryTraceFormat.WriteVarint(span[1..], (ulong)count));

        // Deltas restart at every block, so each block decodes on its own.
        long prevTime = 0;
        long prevPfn = 0;
        EncodeRecords(writer, first, ref prevTime, ref prevPfn);
        EncodeRecords(writer, second, ref prevTime, ref prevPfn);
        WriteChecksum(writer);
        ring.Release(count);
        Interlocked.Add(ref _written, count);
        return count;
    }

    private void EncodeRecords(PipeWriter writer, ReadOnlySpan<SimEvent> events, ref long prevTime, ref long prevPfn)
    {
        // 4 KiB at a time: one GetSpan per ~200 records rather than per record.
        const int ChunkBytes = 4096;
        int i = 0;
        while (i < events.Length)
        {
            Span<byte> span = writer.GetSpan(ChunkBytes);
            int n = 0;
            while (i < events.Length && span.Length - n >= BinaryTraceFormat.MaxRecordBytes)
            {
                ref readonly SimEvent e = ref events[i++];
                span[n++] = (byte)e.Kind;
                n += BinaryTraceFormat.WriteVarint(span[n..], BinaryTraceFormat.ZigZag(e.TimeNs - prevTime));
                n += BinaryTraceFormat.WriteVarint(span[n..], BinaryTraceFormat.ZigZag(e.Cpu));
                n += BinaryTraceFormat.WriteVarint(span[n..], BinaryTraceFormat.ZigZag(e.Pfn - prevPfn));
                n += BinaryTraceFormat.WriteVarint(span[n..], BinaryTraceFormat.ZigZag(e.Extra));
                prevTime = e.TimeNs;
                prevPfn = e.Pfn;
            }

            Checked(writer, span, n);
        }
    }

    /// <summary>A bounded single-producer, single-consumer ring of events.</summary>
    private sealed class ProducerRing(int capacity)
    {
        private readonly SimEvent[] _items = new SimEvent[capacity];
        private readonly int _mask = capacity - 1;
        private PaddedLong _tail;   // written by the producer only
        private PaddedLong _head;   // written by the pump only
        private long _cachedHead;   // the producer's last look at _head, so it reads the pump's line only when it seems full
        private long _drops;

        public long Drops => Volatile.Read(ref _drops);

        public bool TryWrite(in SimEvent e)
        {
            long tail = _tail.Value;
            if (tail - _cachedHead >= _items.Length)
            {
                _cachedHead = Volatile.Read(ref _head.Value);
                if (tail - _cachedHead >= _items.Length)
                {
                    Volatile.Write(ref _drops, _drops + 1);
                    return false;
                }
            }

            _items[(int)(tail & _mask)] = e;
            Volatile.Write(ref _tail.Value, tail + 1);
            return true;
        }

        /// <summary>True once per half ring: often enough that the pump drains before the ring fills.</summary>
        public bool ShouldWakePump() => (_tail.Value & (_mask >> 1)) == 0;

        /// <summary>Pump side: the queued events, as up to two spans (the ring may wrap).</summary>
        public ReadOnlySpan<SimEvent> PeekFirst(out ReadOnlySpan<SimEvent> second)
        {
            long head = _head.Value;
            int count = (int)(Volatile.Read(ref _tail.Value) - head);
            int start = (int)(head & _mask);
            int firstLength = Math.Min(count, _items.Length - start);
            second = _items.AsSpan(0, count - firstLength);
            return _items.AsSpan(start, firstLength);
        }

        public void Release(int count) => Volatile.Write(ref _head.Value, _head.Value + count);
    }

    /// <summary>A long with 128 bytes either side (ARM64 prefetches lines in pairs), so producer
    /// and pump indexes do not false-share.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct PaddedLong
    {
        [FieldOffset(128)]
        public long Value;
    }
}
