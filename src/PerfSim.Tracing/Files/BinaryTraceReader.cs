using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using PerfSim.Core.Events;

namespace PerfSim.Tracing.Files;

/// <summary>Receives decoded events in batches; the span is only valid during the call.</summary>
public delegate void SimEventBatchHandler(ReadOnlySpan<SimEvent> batch);

/// <summary>What <see cref="BinaryTraceReader.ScanAsync"/> found: for replay-throughput measurements.</summary>
/// <param name="Events">Records decoded.</param>
/// <param name="Bytes">File bytes read.</param>
/// <param name="Drops">Events the writer dropped, from the end marker.</param>
public readonly record struct TraceScan(long Events, long Bytes, long Drops);

/// <summary>
/// Reads a binary trace (docs/trace-format.md) through a <see cref="PipeReader"/>, validating as it
/// goes. Any malformation is a <see cref="TraceFormatException"/> naming the byte offset; events
/// before it have already been delivered.
/// </summary>
public sealed class BinaryTraceReader : IAsyncDisposable
{
    /// <summary>Events per delivered batch: big enough to amortise the async step, small enough for L2.</summary>
    private const int BatchSize = 4096;

    private readonly PipeReader _reader;
    private readonly Decoder _decoder = new();
    private readonly SimEvent[] _batch = new SimEvent[BatchSize];

    private BinaryTraceReader(PipeReader reader) => _reader = reader;

    /// <summary>The format version of the file.</summary>
    public int Version => _decoder.Version;

    /// <summary>The run configuration stored by the writer ("" when none).</summary>
    public string RunConfigJson => _decoder.RunConfigJson;

    /// <summary>Events the writer dropped; known once the end marker has been read.</summary>
    public long? Drops => _decoder.IsDone ? _decoder.Drops : null;

    /// <summary>File bytes consumed so far.</summary>
    public long BytesRead => _decoder.Offset;

    /// <summary>Opens a trace and reads its header.</summary>
    public static async Task<BinaryTraceReader> OpenAsync(Stream stream, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = new BinaryTraceReader(PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: leaveOpen)));
        try
        {
            // The header decodes without producing events, so one step stops right after it.
            await reader.NextBatchAsync(stopAfterHeader: true, cancellationToken).ConfigureAwait(false);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Delivers every event in batches; returns how many. Throws at the first malformation.</summary>
    public async Task<long> ReadBatchesAsync(SimEventBatchHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        long total = 0;
        int count;
        while ((count = await NextBatchAsync(stopAfterHeader: false, cancellationToken).ConfigureAwait(false)) > 0)
        {
            handler(_batch.AsSpan(0, count));
            total += count;
        }

        return total;
    }

    /// <summary>Every event, one at a time.</summary>
    public async IAsyncEnumerable<SimEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int count;
        while ((count = await NextBatchAsync(stopAfterHeader: false, cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (int i = 0; i < count; i++)
            {
                yield return _batch[i];
            }
        }
    }

    /// <summary>Decodes a whole trace and counts events and bytes: the replay-throughput helper.</summary>
    public static async Task<TraceScan> ScanAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        await using BinaryTraceReader reader = await OpenAsync(stream, leaveOpen: true, cancellationToken).ConfigureAwait(false);
        long events = await reader.ReadBatchesAsync(static _ => { }, cancellationToken).ConfigureAwait(false);
        return new TraceScan(events, reader.BytesRead, reader.Drops ?? 0);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _reader.CompleteAsync();

    /// <summary>Decodes the next batch into <see cref="_batch"/>; 0 at the (validated) end of the file.</summary>
    private async ValueTask<int> NextBatchAsync(bool stopAfterHeader, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition consumed = _decoder.Decode(buffer, result.IsCompleted, stopAfterHeader, _batch, out int count, out bool needMore);
            // Mark everything examined only when the decoder really needs more bytes; otherwise the next
            // ReadAsync would wait for data although whole records are still buffered.
            _reader.AdvanceTo(consumed, needMore ? buffer.End : consumed);
            if (count > 0 || (stopAfterHeader && _decoder.HeaderRead))
            {
                return count;
            }

            if (_decoder.IsDone && result.IsCompleted && !needMore)
            {
                return 0;
            }
        }
    }

    /// <summary>The format's state machine over whatever bytes have arrived. Each unit (header, chunk
    /// header, record) is decoded whole or not at all, so a unit split across reads is retried intact.</summary>
    private sealed class Decoder
    {
        private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly Crc32 _crc = new();
        private Stage _stage;
        private Stage _afterChecksum;
        private long _unitOffset;   // where the unit the next checksum closes starts
        private long _crcFrom;      // this Decode's first consumed byte not yet in _crc
        private long _blockRemaining;
        private long _prevTime;
        private long _prevPfn;
        private long _records;

        private enum Stage
        {
            Header,
            Chunk,
            Record,
            Checksum,
            Done,
        }

        public int Version { get; private set; }

        public string RunConfigJson { get; private set; } = "";

        public long Drops { get; private set; }

        /// <summary>Absolute file offset of the first byte not yet consumed.</summary>
        public long Offset { get; private set; }

        /// <summary>The header is decoded and its checksum verified.</summary>
        public bool HeaderRead { get; private set; }

        public bool IsDone => _stage == Stage.Done;

        public SequencePosition Decode(ReadOnlySequence<byte> buffer, bool isCompleted, bool stopAfterHeader, Span<SimEvent> output, out int count, out bool needMore)
        {
            var r = new SequenceReader<byte>(buffer);
            count = 0;
            needMore = false;
            _crcFrom = 0;
            while (true)
            {
                if (_stage == Stage.Done)
                {
                    if (!r.End)
                    {
                        throw TraceFormatException.AtByte(Offset + r.Consumed, "trailing data after the end marker");
                    }

                    needMore = !isCompleted;
                    break;
                }

                if ((_stage == Stage.Record && count == output.Length) || (stopAfterHeader && HeaderRead))
                {
                    break;
                }

                long unitStart = r.Consumed;
                long recordsBefore = _records;
                if (_stage == Stage.Chunk)
                {
                    _unitOffset = Offset + unitStart;
                }

                bool decoded = _stage switch
                {
                    Stage.Header => TryHeader(ref r),
                    Stage.Chunk => TryChunk(ref r, unitStart),
                    Stage.Checksum => TryChecksum(ref r, buffer, unitStart),
                    _ => TryRecord(ref r, unitStart, ref output[count]),
                };
                if (decoded)
                {
                    count += (int)(_records - recordsBefore);
                    continue;
                }

                r.Rewind(r.Consumed - unitStart);
                if (isCompleted)
                {
                    throw TraceFormatException.AtByte(Offset + unitStart, TruncationProblem(r.Remaining));
                }

                needMore = true;
                break;
            }

            // Bytes consumed but not yet checked go into the checksum now: the next call starts at r.Position.
            AppendToChecksum(buffer, r.Consumed);
            Offset += r.Consumed;
            return r.Position;
        }

        private void AppendToChecksum(ReadOnlySequence<byte> buffer, long upTo)
        {
            foreach (ReadOnlyMemory<byte> segment in buffer.Slice(_crcFrom, upTo - _crcFrom))
            {
                _crc.Append(segment.Span);
            }

            _crcFrom = upTo;
        }

        /// <summary>The unit just decoded is closed by a checksum, then decoding goes on at <paramref name="next"/>.</summary>
        private void ExpectChecksum(Stage next)
        {
            _afterChecksum = next;
            _stage = Stage.Checksum;
        }

        private bool TryChecksum(ref SequenceReader<byte> r, ReadOnlySequence<byte> buffer, long unitStart)
        {
            Span<byte> stored = stackalloc byte[BinaryTraceFormat.ChecksumBytes];
            if (!r.TryCopyTo(stored))
            {
                return false;
            }

            AppendToChecksum(buffer, unitStart);
            r.Advance(stored.Length);
            _crcFrom = r.Consumed;
            uint computed = _crc.GetCurrentHashAsUInt32();
            _crc.Reset();
            if (BinaryPrimitives.ReadUInt32LittleEndian(stored) != computed)
            {
                string unit = _afterChecksum switch
                {
                    Stage.Done => "end marker",
                    _ when _unitOffset == 0 => "header",
                    _ => "block",
                };
                throw TraceFormatException.AtByte(_unitOffset, $"checksum mismatch: the {unit} is corrupt; it starts");
            }

            HeaderRead = true;
            _stage = _afterChecksum;
            return true;
        }

        private string TruncationProblem(long remaining) => _stage switch
        {
            Stage.Header => "truncated header",
            Stage.Chunk when remaining == 0 => $"missing end marker after {_records} records (the writer did not finish)",
            Stage.Chunk => "truncated block header or end marker",
            Stage.Checksum => "truncated checksum",
            _ => "truncated record",
        };

        private bool TryHeader(ref SequenceReader<byte> r)
        {
            ReadOnlySpan<byte> magic = BinaryTraceFormat.Magic;
            int available = (int)Math.Min(r.Remaining, magic.Length);
            Span<byte> head = stackalloc byte[magic.Length];
            r.TryCopyTo(head[..available]);
            if (!head[..available].SequenceEqual(magic[..available]))
            {
                throw TraceFormatException.AtByte(0, "not a PerfSim trace (bad magic)");
            }

            if (available < magic.Length)
            {
                return false;
            }

            r.Advance(magic.Length);
            if (!r.TryRead(out byte version))
            {
                return false;
            }

            if (version != BinaryTraceFormat.Version)
            {
                throw TraceFormatException.AtByte(magic.Length, $"unsupported version {version} (this reader reads {BinaryTraceFormat.Version})");
            }

            long lengthAt = r.Consumed;
            if (!TryVarint(ref r, out ulong length))
            {
                return false;
            }

            if (length > BinaryTraceFormat.MaxConfigBytes)
            {
                throw TraceFormatException.AtByte(Offset + lengthAt, $"run-config length {length} exceeds {BinaryTraceFormat.MaxConfigBytes} bytes");
            }

            if (r.Remaining < (long)length)
            {
                return false;
            }

            ReadOnlySequence<byte> config = r.UnreadSequence.Slice(0, (long)length);
            try
            {
                RunConfigJson = s_strictUtf8.GetString(config);
            }
            catch (DecoderFallbackException)
            {
                throw TraceFormatException.AtByte(Offset + r.Consumed, "run-config is not valid UTF-8");
            }

            r.Advance((long)length);
            Version = version;
            _unitOffset = 0;
            ExpectChecksum(Stage.Chunk);
            return true;
        }

        private bool TryChunk(ref SequenceReader<byte> r, long unitStart)
        {
            if (!r.TryRead(out byte tag))
            {
                return false;
            }

            switch (tag)
            {
                case BinaryTraceFormat.BlockTag:
                    if (!TryVarint(ref r, out ulong count))
                    {
                        return false;
                    }

                    // Deltas restart at every block.
                    _blockRemaining = (long)count;
                    _prevTime = 0;
                    _prevPfn = 0;
                    if (count == 0)
                    {
                        ExpectChecksum(Stage.Chunk);
                    }
                    else
                    {
                        _stage = Stage.Record;
                    }

                    return true;

                case BinaryTraceFormat.EndTag:
                    if (!TryVarint(ref r, out ulong records) || !TryVarint(ref r, out ulong drops))
                    {
                        return false;
                    }

                    if ((long)records != _records)
                    {
                        throw TraceFormatException.AtByte(Offset + unitStart, $"end marker says {records} records but the file holds {_records}");
                    }

                    Drops = (long)drops;
                    ExpectChecksum(Stage.Done);
                    return true;

                default:
                    throw TraceFormatException.AtByte(Offset + unitStart, $"unknown chunk tag 0x{tag:X2}");
            }
        }

        private bool TryRecord(ref SequenceReader<byte> r, long unitStart, ref SimEvent output)
        {
            if (!r.TryRead(out byte kind))
            {
                return false;
            }

            if (kind == 0)
            {
                throw TraceFormatException.AtByte(Offset + unitStart, "invalid event kind 0");
            }

            if (!TryVarint(ref r, out ulong time) || !TryVarint(ref r, out ulong cpu)
                || !TryVarint(ref r, out ulong pfn) || !TryVarint(ref r, out ulong extra))
            {
                return false;
            }

            long cpuValue = BinaryTraceFormat.UnZigZag(cpu);
            if (cpuValue is < int.MinValue or > int.MaxValue)
            {
                throw TraceFormatException.AtByte(Offset + unitStart, $"cpu {cpuValue} out of range");
            }

            // Unchecked: deltas wrap exactly as the writer's subtraction did.
            _prevTime = unchecked(_prevTime + BinaryTraceFormat.UnZigZag(time));
            _prevPfn = unchecked(_prevPfn + BinaryTraceFormat.UnZigZag(pfn));
            output = new SimEvent(_prevTime, _prevPfn, BinaryTraceFormat.UnZigZag(extra), (int)cpuValue, (SimEventKind)kind);
            _records++;
            if (--_blockRemaining == 0)
            {
                ExpectChecksum(Stage.Chunk);
            }

            return true;
        }

        /// <summary>False when the bytes run out; throws on a varint longer than 64 bits.</summary>
        private bool TryVarint(ref SequenceReader<byte> r, out ulong value)
        {
            long start = r.Consumed;
            return BinaryTraceFormat.TryReadVarint(ref r, out value) switch
            {
                BinaryTraceFormat.VarintStatus.Ok => true,
                BinaryTraceFormat.VarintStatus.NeedMoreData => false,
                _ => throw TraceFormatException.AtByte(Offset + start, "varint overflow"),
            };
        }
    }
}
