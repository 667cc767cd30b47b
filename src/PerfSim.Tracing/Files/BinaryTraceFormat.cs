using System.Buffers;

namespace PerfSim.Tracing.Files;

/// <summary>Constants and varint coding of the binary trace format (docs/trace-format.md).</summary>
internal static class BinaryTraceFormat
{
    /// <summary>"PERFSIMT": the first 8 bytes of every binary trace.</summary>
    public static ReadOnlySpan<byte> Magic => "PERFSIMT"u8;

    /// <summary>2: a CRC-32 after the header, every block and the end marker (1 had none).</summary>
    public const byte Version = 2;

    /// <summary>Bytes of the CRC-32 (IEEE 802.3, little-endian) that closes each unit.</summary>
    public const int ChecksumBytes = 4;

    public const byte BlockTag = (byte)'B';

    public const byte EndTag = (byte)'E';

    /// <summary>A varint of a 64-bit value takes at most 10 bytes (7 bits each).</summary>
    public const int MaxVarintBytes = 10;

    /// <summary>kind + Δtime + cpu + Δpfn + extra, each varint at its widest.</summary>
    public const int MaxRecordBytes = 1 + (4 * MaxVarintBytes);

    /// <summary>Refuse bigger run-config blobs: a corrupt length must not make the reader buffer gigabytes.</summary>
    public const int MaxConfigBytes = 16 << 20;

    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Writes <paramref name="value"/> as LEB128; returns the bytes written (span must hold 10).</summary>
    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public enum VarintStatus
    {
        Ok,
        NeedMoreData,
        Overflow,
    }

    /// <summary>Reads a LEB128 value; on <see cref="VarintStatus.NeedMoreData"/> the reader position is unspecified.</summary>
    public static VarintStatus TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 7 * MaxVarintBytes; shift += 7)
        {
            if (!reader.TryRead(out byte b))
            {
                return VarintStatus.NeedMoreData;
            }

            // The 10th byte may only carry the top bit of a 64-bit value.
            if (shift == 63 && b > 1)
            {
                return VarintStatus.Overflow;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return VarintStatus.Ok;
            }
        }

        return VarintStatus.Overflow;
    }
}
