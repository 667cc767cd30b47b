using PerfSim.Core.Events;
using PerfSim.Tracing.Files;

namespace PerfSim.Tracing.Tests;

/// <summary>
/// Files built byte by byte from docs/trace-format.md, so these tests also pin the documented layout.
/// </summary>
public sealed class BinaryTraceCorruptionTests
{
    // Header: magic, version 2, config length 2, "{}", then its CRC-32.
    private static readonly byte[] s_header = Unit([.. "PERFSIMT"u8, 2, 2, (byte)'{', (byte)'}']);

    // Block of 2 records. Record: kind, zigzag Δtime, zigzag cpu, zigzag Δpfn, zigzag extra.
    // 1: Fault at t=100 (200), cpu 1 (2), pfn 0x1000 (0x2000 = 0x80 0x40), extra 5 (10).
    // 2: DirectMapZap at t=150 (Δ50 → 100), cpu 1, pfn 0x1001 (Δ1 → 2), extra 512 (1024 = 0x80 0x08).
    private static readonly byte[] s_record1 = [1, 0xC8, 0x01, 2, 0x80, 0x40, 10];
    private static readonly byte[] s_record2 = [3, 100, 2, 2, 0x80, 0x08];
    private static readonly byte[] s_block = Unit([(byte)'B', 2, .. s_record1, .. s_record2]);
    private static readonly byte[] s_end = Unit([(byte)'E', 2, 0]);

    private static readonly int s_firstRecord = s_header.Length + 2;

    private static byte[] Valid() => [.. s_header, .. s_block, .. s_end];

    /// <summary>A unit closed by the CRC-32 of its bytes, little-endian.</summary>
    private static byte[] Unit(byte[] bytes) => [.. bytes, .. System.IO.Hashing.Crc32.Hash(bytes)];

    private static async Task<List<SimEvent>> ReadAsync(byte[] file)
    {
        await using BinaryTraceReader reader = await BinaryTraceReader.OpenAsync(new MemoryStream(file));
        var events = new List<SimEvent>();
        await reader.ReadBatchesAsync(batch => events.AddRange(batch.ToArray()));
        return events;
    }

    private static async Task AssertRejectedAt(byte[] file, long offset, string problem)
    {
        TraceFormatException ex = await Assert.ThrowsAsync<TraceFormatException>(() => ReadAsync(file));
        Assert.Equal(offset, ex.ByteOffset);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.EndsWith($"at byte {offset}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public async Task The_documented_layout_decodes_to_the_documented_events()
    {
        Assert.Equal(
            [new SimEvent(100, 0x1000, 5, 1, SimEventKind.Fault), new SimEvent(150, 0x1001, 512, 1, SimEventKind.DirectMapZap)],
            await ReadAsync(Valid()));
    }

    [Fact]
    public async Task The_reader_copes_with_a_stream_that_returns_one_byte_at_a_time()
    {
        await using BinaryTraceReader reader = await BinaryTraceReader.OpenAsync(new OneByteStream(Valid()));
        Assert.Equal("{}", reader.RunConfigJson);
        Assert.Equal(2, await reader.ReadBatchesAsync(_ => { }));
        Assert.Equal(Valid().Length, reader.BytesRead);
    }

    [Fact]
    public Task Bad_magic_is_reported_at_byte_0() => AssertRejectedAt([.. "PERFSIMX"u8, .. Valid()[8..]], 0, "not a PerfSim trace (bad magic)");

    [Fact]
    public Task A_short_non_trace_file_is_bad_magic_not_truncation() => AssertRejectedAt("hello"u8.ToArray(), 0, "bad magic");

    [Fact]
    public Task An_empty_file_is_a_truncated_header() => AssertRejectedAt([], 0, "truncated header");

    [Fact]
    public Task A_version_1_file_without_checksums_is_an_unsupported_version_at_byte_8()
    {
        byte[] file = Valid();
        file[8] = 1;
        return AssertRejectedAt(file, 8, "unsupported version 1 (this reader reads 2)");
    }

    [Fact]
    public Task A_file_cut_inside_a_record_names_the_record_start() =>
        AssertRejectedAt(Valid()[..(s_firstRecord + 3)], s_firstRecord, "truncated record");

    [Fact]
    public Task A_file_cut_inside_a_checksum_says_so() =>
        AssertRejectedAt(Valid()[..(s_header.Length + s_block.Length - 2)], s_header.Length + s_block.Length - 4, "truncated checksum");

    [Fact]
    public Task A_file_cut_before_the_end_marker_says_the_writer_did_not_finish()
    {
        int endAt = Valid().Length - s_end.Length;
        return AssertRejectedAt(Valid()[..endAt], endAt, "missing end marker after 2 records");
    }

    [Fact]
    public Task A_flipped_bit_in_a_record_is_a_checksum_mismatch_at_the_start_of_its_block()
    {
        byte[] file = Valid();
        file[s_firstRecord + 1] ^= 0x04; // record 1's time: still a valid varint, a different value
        return AssertRejectedAt(file, s_header.Length, "checksum mismatch: the block is corrupt");
    }

    [Fact]
    public Task A_flipped_bit_in_the_run_config_is_a_header_checksum_mismatch_at_byte_0()
    {
        byte[] file = Valid();
        file[10] ^= 0x01; // '{' becomes 'z'
        return AssertRejectedAt(file, 0, "checksum mismatch: the header is corrupt");
    }

    [Fact]
    public Task A_flipped_bit_in_a_stored_checksum_is_a_mismatch_too()
    {
        byte[] file = Valid();
        file[^1] ^= 0x80;
        return AssertRejectedAt(file, file.Length - s_end.Length, "checksum mismatch: the end marker is corrupt");
    }

    [Fact]
    public Task A_varint_longer_than_64_bits_is_an_overflow_at_its_first_byte()
    {
        byte[] file = [.. s_header, (byte)'B', 1, 1, .. Enumerable.Repeat((byte)0xFF, 11), 0, 0, 0, .. s_end];
        return AssertRejectedAt(file, s_firstRecord + 1, "varint overflow");
    }

    [Fact]
    public Task A_tenth_varint_byte_above_1_is_an_overflow()
    {
        byte[] file = [.. s_header, (byte)'B', 1, 1, .. Enumerable.Repeat((byte)0xFF, 9), 0x02, 0, 0, 0, .. s_end];
        return AssertRejectedAt(file, s_firstRecord + 1, "varint overflow");
    }

    [Fact]
    public Task Trailing_garbage_after_the_end_marker_is_reported_where_it_starts() =>
        AssertRejectedAt([.. Valid(), 0x42], Valid().Length, "trailing data");

    [Fact]
    public Task An_unknown_chunk_tag_is_reported() =>
        AssertRejectedAt([.. s_header, (byte)'Z', .. s_end], s_header.Length, "unknown chunk tag 0x5A");

    [Fact]
    public Task Kind_zero_is_invalid() =>
        AssertRejectedAt([.. s_header, (byte)'B', 1, 0, 0, 0, 0, 0, .. s_end], s_firstRecord, "invalid event kind 0");

    [Fact]
    public Task An_end_marker_that_miscounts_records_is_rejected()
    {
        byte[] file = [.. s_header, .. s_block, .. Unit([(byte)'E', 3, 0])];
        return AssertRejectedAt(file, file.Length - s_end.Length, "end marker says 3 records but the file holds 2");
    }

    [Fact]
    public Task A_huge_run_config_length_is_refused_before_buffering_it() =>
        AssertRejectedAt([.. "PERFSIMT"u8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 9, "run-config length");

    /// <summary>Serves at most one byte per read, to split every unit across reads.</summary>
    private sealed class OneByteStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);
    }
}
