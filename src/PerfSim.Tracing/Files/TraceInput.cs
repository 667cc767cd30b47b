using System.Buffers;
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
            bool binary = await StartsWithMagicAsync(pipe, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Delivers every event in batches (file order); returns how many.</summary>
    public async Task<long> ReadBatchesAsync(SimEventBatchHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_binary is not null)
        {
            return await _binary.ReadBatchesAsync(handler, cancellationToken).ConfigureAwait(false);
        }

        using var text = new StreamReader(_pipe.AsStream(leaveOpen: true));
        var batch = new SimEvent[TextBatchSize];
        int count = 0;
        long total = 0;
        foreach (SimEvent e in TextTrace.Read(text))
        {
            batch[count++] = e;
            if (count == batch.Length)
            {
                handler(batch);
                total += count;
                count = 0;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        handler(batch.AsSpan(0, count));
        return total + count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_binary is not null)
        {
            await _binary.DisposeAsync().ConfigureAwait(false);
        }

        await _pipe.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Whether the first bytes are (a prefix of) the binary magic, so that a binary trace
    /// cut inside its magic still gets the binary reader's byte-offset error. Consumes nothing.</summary>
    private static async Task<bool> StartsWithMagicAsync(PipeReader pipe, CancellationToken cancellationToken)
    {
        int magicLength = BinaryTraceFormat.Magic.Length;
        while (true)
        {
            ReadResult result = await pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= magicLength || result.IsCompleted)
            {
                byte[] head = buffer.Slice(0, Math.Min(buffer.Length, magicLength)).ToArray();
                pipe.AdvanceTo(buffer.Start);
                return head.Length > 0 && BinaryTraceFormat.Magic.StartsWith(head);
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
