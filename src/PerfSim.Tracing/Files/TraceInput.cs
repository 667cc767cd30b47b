using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using PerfSim.Core.Events;

namespace PerfSim.Tracing.Files;

/// <summary>
/// A trace to replay, binary or text (docs/trace-format.md), read through one
/// <see cref="PipeReader"/>: the first bytes tell the format (the binary magic, else text).
/// Malformations surface as <see cref="TraceFormatException"/> with the byte offset or line.
/// </summary>
public sealed class TraceInput : IAsyncDisposable
{
    private const int TextBatchSize = 4096;

    private readonly PipeReader _pipe;
    private readonly Stream _source;
    private readonly BinaryTraceReader? _binary;

    private TraceInput(PipeReader pipe, Stream source, BinaryTraceReader? binary)
    {
        _pipe = pipe;
        _source = source;
        _binary = binary;
    }

    /// <summary>True for a binary trace, false for a text trace.</summary>
    public bool IsBinary => _binary is not null;

    /// <summary>The run configuration in a binary trace's header ("" for text traces).</summary>
    public string RunConfigJson => _binary?.RunConfigJson ?? string.Empty;

    /// <summary>Events the writer dropped (binary traces, once read to the end; 0 for text).</summary>
    public long Drops => _binary?.Drops ?? 0;

    /// <summary>Bytes of the trace consumed so far (a text trace: of the underlying stream).</summary>
    public long BytesRead => _binary?.BytesRead ?? (_source.CanSeek ? _source.Position : 0);

    /// <summary>Opens <paramref name="stream"/> (owned: disposed with this) and reads a binary header.</summary>
    public static async Task<TraceInput> OpenAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PipeReader pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            bool binary = await IsBinaryAsync(pipe, cancellationToken).ConfigureAwait(false);
            // The peeked bytes were not consumed: the binary reader decodes from byte 0 of the same pipe.
            BinaryTraceReader? reader = binary
                ? await BinaryTraceReader.OpenAsync(pipe.AsStream(leaveOpen: true), leaveOpen: true, cancellationToken).ConfigureAwait(false)
                : null;
            return new TraceInput(pipe, stream, reader);
        }
        catch
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Delivers every event in batches (file order); returns how many. Events the replay
    /// would act on with impossible values (a negative time, a punch-hole of negative length) are
    /// refused with their position, as is a text trace without a single event.</summary>
    public async Task<long> ReadBatchesAsync(SimEventBatchHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_binary is not null)
        {
            // A bad record is reported once the file is read: if its block is corrupt, the
            // checksum names the block's offset instead; events after it are not delivered.
            long index = 0;
            string? problem = null;
            long events = await _binary.ReadBatchesAsync(
                batch =>
                {
                    int good = 0;
                    while (problem is null && good < batch.Length)
                    {
                        if (Problem(in batch[good]) is { } found)
                        {
                            problem = string.Create(CultureInfo.InvariantCulture, $"record {index}: {found}");
                            break;
                        }

                        good++;
                        index++;
                    }

                    if (good > 0)
                    {
                        handler(batch[..good]);
                    }
                },
                cancellationToken).ConfigureAwait(false);
            return problem is null ? events : throw new TraceFormatException(problem);
        }

        using var text = new StreamReader(_pipe.AsStream(leaveOpen: true));
        var batch = new SimEvent[TextBatchSize];
        int count = 0;
        long total = 0;
        foreach ((SimEvent e, int line) in TextTrace.ReadNumbered(text))
        {
            if (Problem(in e) is { } problem)
            {
                throw TraceFormatException.AtLine(line, problem);
            }

            batch[count++] = e;
            if (count == batch.Length)
            {
                handler(batch);
                total += count;
                count = 0;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        if (total + count == 0)
        {
            throw new TraceFormatException("a text trace without a single event (only blank lines and comments)");
        }

        handler(batch.AsSpan(0, count));
        return total + count;
    }

    /// <summary>What makes <paramref name="e"/> unreplayable, or null.</summary>
    private static string? Problem(in SimEvent e) => e.Kind switch
    {
        SimEventKind.PunchHole when e.Extra < 0 => $"punch_hole of negative length {e.Extra}",
        SimEventKind.PunchHole or SimEventKind.Fault or SimEventKind.PopulatePage when e.TimeNs < 0 => $"{TextTrace.KindName(e.Kind)} at negative time {e.TimeNs} ns",
        _ => null,
    };

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_binary is not null)
        {
            await _binary.DisposeAsync().ConfigureAwait(false);
        }

        await _pipe.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>What every replayable file is; said when a file is none of it.</summary>
    public const string Accepted = "replay takes a binary trace (perfsim run --record) or a text trace (TIME_NS CPU KIND PFN [EXTRA] lines)";

    /// <summary>Bytes looked at to tell the format.</summary>
    private const int SniffBytes = 64;

    /// <summary>Whether the first bytes are (a prefix of) the binary magic, so that a binary trace
    /// cut inside its magic still gets the binary reader's byte-offset error; false for text.
    /// Refuses an empty file, an EventPipe .nettrace and other binary data. Consumes nothing.</summary>
    private static async Task<bool> IsBinaryAsync(PipeReader pipe, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= SniffBytes || result.IsCompleted)
            {
                byte[] head = buffer.Slice(0, Math.Min(buffer.Length, SniffBytes)).ToArray();
                pipe.AdvanceTo(buffer.Start);
                return Classify(head);
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool Classify(ReadOnlySpan<byte> head)
    {
        ReadOnlySpan<byte> magic = BinaryTraceFormat.Magic;
        if (head.IsEmpty)
        {
            throw new TraceFormatException("an empty file; " + Accepted);
        }

        if (head.StartsWith(magic) || (head.Length < magic.Length && magic.StartsWith(head)))
        {
            return true;
        }

        if (head.StartsWith("Nettrace"u8))
        {
            throw new TraceFormatException("an EventPipe .nettrace file (from perfsim trace or dotnet-trace; open it with PerfView or TraceEvent); " + Accepted);
        }

        // Text is UTF-8: control bytes other than tab and line ends mean binary data.
        foreach (byte b in head)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                throw new TraceFormatException("not a PerfSim trace: binary data without the PERFSIMT magic; " + Accepted);
            }
        }

        return false;
    }
}
