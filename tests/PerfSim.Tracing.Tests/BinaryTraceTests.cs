using PerfSim.Core.Events;
using PerfSim.Testing;
using PerfSim.Tracing.Files;

namespace PerfSim.Tracing.Tests;

public sealed class BinaryTraceTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(60);

    internal static SimEvent[] RandomEvents(int seed, int count, int cpu)
    {
        var random = new Random(seed);
        var events = new SimEvent[count];
        long time = random.Next();
        for (int i = 0; i < count; i++)
        {
            // Mostly realistic (rising time, nearby frames), with extremes to exercise zigzag and 10-byte varints.
            time += random.Next(0, 5000);
            long pfn = (i % 97) switch
            {
                0 => long.MinValue,
                1 => long.MaxValue,
                _ => 0x100000 + random.Next(0, 1 << 20),
            };
            long extra = (i % 89) == 0 ? -1 : random.Next(0, 512);
            var kind = (SimEventKind)random.Next(1, 15);
            events[i] = new SimEvent((i % 211) == 0 ? long.MinValue : time, pfn, extra, cpu, kind);
        }

        return events;
    }

    private static async Task<(List<SimEvent> Events, BinaryTraceReader Reader)> ReadAllAsync(byte[] file)
    {
        BinaryTraceReader reader = await BinaryTraceReader.OpenAsync(new MemoryStream(file));
        var events = new List<SimEvent>();
        await foreach (SimEvent e in reader.ReadAllAsync())
        {
            events.Add(e);
        }

        return (events, reader);
    }

    private static IOrderedEnumerable<SimEvent> Canonical(IEnumerable<SimEvent> events) =>
        events.OrderBy(e => e.Cpu).ThenBy(e => e.TimeNs).ThenBy(e => e.Pfn).ThenBy(e => e.Extra).ThenBy(e => e.Kind);

    [Fact]
    public async Task Events_from_several_threads_round_trip_exactly_when_nothing_is_dropped()
    {
        const int Threads = 4;
        const int PerThread = 20_000;
        SimEvent[][] sent = Enumerable.Range(0, Threads).Select(t => RandomEvents(42 + t, PerThread, t)).ToArray();
        var stream = new MemoryStream();
        // A ring as big as a thread's whole output cannot fill, so a drop here would be a bug.
        var options = new BinaryTraceWriterOptions { EventsPerThread = 32 * 1024, RunConfigJson = "{\"seed\":42,\"cpus\":4}", LeaveOpen = true };
        await using (var writer = new BinaryTraceWriter(stream, options))
        {
            HostThreads.Run(Threads, t =>
            {
                foreach (SimEvent e in sent[t])
                {
                    writer.Emit(in e);
                }
            }, s_hangGuard);
            Assert.Equal(0, writer.Drops);
        }

        (List<SimEvent> read, BinaryTraceReader reader) = await ReadAllAsync(stream.ToArray());
        await using (reader)
        {
            Assert.Equal(options.RunConfigJson, reader.RunConfigJson);
            Assert.Equal(2, reader.Version);
            Assert.Equal(0, reader.Drops);
            Assert.Equal(Canonical(sent.SelectMany(e => e)), Canonical(read));
            // Within one thread the order survives: blocks keep each ring's order.
            for (int t = 0; t < Threads; t++)
            {
                Assert.Equal(sent[t], read.Where(e => e.Cpu == t));
            }
        }
    }

    [Fact]
    public async Task A_blocked_stream_makes_producers_drop_and_count_instead_of_waiting()
    {
        const int Threads = 2;
        const int PerThread = 50_000;
        var stream = new GatedStream();
        var options = new BinaryTraceWriterOptions { EventsPerThread = 1024, PauseWriterThreshold = 16 * 1024, ResumeWriterThreshold = 8 * 1024, LeaveOpen = true };
        var writer = new BinaryTraceWriter(stream, options);
        // The gate has been shut since before the first byte, so finishing here (no timeout) means
        // no producer waited for the stream.
        HostThreads.Run(Threads, t =>
        {
            foreach (SimEvent e in RandomEvents(7 + t, PerThread, t))
            {
                writer.Emit(in e);
            }
        }, s_hangGuard);
        Assert.False(stream.IsOpen);
        await stream.WriteAttempted.Task.WaitAsync(s_hangGuard); // the copier is stuck in the stream
        long drops = writer.Drops;
        // Pipe (≤ 16 KiB + one block) and rings (2 × 1024) hold far fewer than 100 000 events of ≥ 5 bytes.
        Assert.True(drops > 0, "nothing was dropped although the stream never accepted a byte");

        stream.Open();
        await writer.DisposeAsync();

        (List<SimEvent> read, BinaryTraceReader reader) = await ReadAllAsync(stream.ToArray());
        await using (reader)
        {
            Assert.Equal(drops, reader.Drops);
            Assert.Equal(Threads * PerThread, read.Count + drops);
        }
    }

    [Fact]
    public async Task Emit_allocates_nothing_after_the_threads_first_event()
    {
        // The ring (2^18 events) stays below half full, so no Emit in the loop wakes the pump. A wake
        // (once per half ring) may allocate the pump's queued continuation when the pump is parked in
        // WaitAsync at that instant, which depends on host scheduling: with a 2^17 ring the one wake at
        // event 65,536 made this test fail under load (32 B). Per event that is nothing, and the test
        // now measures exactly the per-event path.
        var options = new BinaryTraceWriterOptions { EventsPerThread = 1 << 18, LeaveOpen = true };
        var stream = new MemoryStream();
        long allocated;
        await using (var writer = new BinaryTraceWriter(stream, options))
        {
            var e = new SimEvent(1, 2, 3, 0, SimEventKind.Fault);
            writer.Emit(in e); // registers this thread's ring
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100_000; i++)
            {
                writer.Emit(in e);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        TraceScan scan = await BinaryTraceReader.ScanAsync(new MemoryStream(stream.ToArray()));
        Assert.Equal(new TraceScan(100_001, stream.Length, 0), scan);
    }

    [Fact]
    public async Task An_empty_trace_has_a_header_and_an_end_marker_only_and_late_events_are_ignored()
    {
        var stream = new MemoryStream();
        var writer = new BinaryTraceWriter(stream, new BinaryTraceWriterOptions { LeaveOpen = true });
        await writer.DisposeAsync();
        writer.Emit(new SimEvent(1, 2, 3, 0, SimEventKind.Fault)); // late: ignored, not thrown at the simulation

        byte[] header = [.. "PERFSIMT"u8, 2, 0];
        byte[] end = [(byte)'E', 0, 0];
        Assert.Equal([.. header, .. System.IO.Hashing.Crc32.Hash(header), .. end, .. System.IO.Hashing.Crc32.Hash(end)], stream.ToArray());
        Assert.Equal(new TraceScan(0, 21, 0), await BinaryTraceReader.ScanAsync(new MemoryStream(stream.ToArray())));
    }

    /// <summary>A stream whose writes wait until the test opens the gate.</summary>
    private sealed class GatedStream : MemoryStream
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource WriteAttempted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsOpen => _gate.Task.IsCompleted;

        public void Open() => _gate.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            WriteAttempted.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(ReadOnlySpan<byte> buffer) => throw new NotSupportedException("the writer must write asynchronously");
    }
}
