using System.Runtime.CompilerServices;
using PerfSim.Core.Memory;
using PerfSim.Core.Tests.Tlb;

namespace PerfSim.Core.Tests.Memory;

public sealed class ChunkedNativeArrayTests
{
    [Fact]
    public void Reads_of_chunks_never_written_are_zero_and_allocate_nothing()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<long>(arena, 1L << 30, 10);
        long directory = arena.AllocatedBytes;
        Assert.Equal((1L << 20) * sizeof(long), directory); // one pointer per chunk
        for (long i = 0; i < a.Length; i += 999_983)
        {
            Assert.Equal(0, a.Read(i));
            Assert.False(a.HasChunk(i));
        }

        Assert.Equal(0, a.AllocatedChunks);
        Assert.Equal(directory, arena.AllocatedBytes);
    }

    [Fact]
    public void A_write_allocates_its_chunk_only_and_growth_keeps_earlier_values()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<int>(arena, 10_000, 8);
        long directory = arena.AllocatedBytes;
        a.GetOrAdd(300) = 7;
        Assert.Equal(1, a.AllocatedChunks);
        Assert.Equal(directory + (256 * sizeof(int)), arena.AllocatedBytes);
        Assert.True(a.HasChunk(256) && a.HasChunk(511) && !a.HasChunk(255) && !a.HasChunk(512));

        var rng = new Random(5);
        var expected = new Dictionary<long, int> { [300] = 7 };
        for (int i = 0; i < 2_000; i++)
        {
            long index = rng.Next(10_000);
            int value = rng.Next(1, int.MaxValue);
            a.GetOrAdd(index) += value;
            expected[index] = expected.GetValueOrDefault(index) + value;
        }

        for (long i = 0; i < a.Length; i++)
        {
            Assert.Equal(expected.GetValueOrDefault(i), a.Read(i));
        }

        var copy = new int[1000];
        a.CopyTo(9_000, copy);
        Assert.Equal(Enumerable.Range(9_000, 1000).Select(i => expected.GetValueOrDefault(i)), copy);
        // The last chunk is cut to the array's end: 10,000 = 39 chunks of 256 and one of 16.
        Assert.Equal(40, a.AllocatedChunks);
        Assert.Equal(directory + (10_000 * sizeof(int)), arena.AllocatedBytes);
    }

    [Fact]
    public void A_span_inside_one_chunk_allocates_that_chunk_and_writes_through()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<byte>(arena, 4096, 9);
        a.GetOrAddSpan(1024 + 16, 16).Fill(5);
        Assert.Equal(1, a.AllocatedChunks);
        Assert.True(a.HasChunk(1024) && !a.HasChunk(1536));
        Assert.Equal(0, a.Read(1024 + 15));
        Assert.Equal(5, a.Read(1024 + 16));
        Assert.Equal(5, a.Read(1024 + 31));
        Assert.Equal(0, a.Read(1024 + 32));
        Assert.Equal(512, a.GetOrAddSpan(1024, 512).Length); // a whole chunk, no new one
        Assert.Equal(1, a.AllocatedChunks);

        // A span that would cross into the next chunk, or leave the array, is refused.
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetOrAddSpan(1024 + 500, 13));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetOrAddSpan(4096, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetOrAddSpan(0, -1));
        Assert.Equal(1, a.AllocatedChunks);
    }

    [Fact]
    public void RefOrNull_is_null_for_a_chunk_never_written_and_the_element_otherwise()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<byte>(arena, 4096, 10);
        Assert.True(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref a.RefOrNull(3000)));
        Assert.Equal(0, a.AllocatedChunks);
        a.GetOrAdd(3000) = 9;
        ref byte element = ref a.RefOrNull(3000);
        Assert.False(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref element));
        Assert.Equal(9, element);
        element = 4;
        Assert.Equal(4, a.Read(3000));
        Assert.Equal(0, a.RefOrNull(2048)); // same chunk, another element
        Assert.True(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref a.RefOrNull(2047)));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.RefOrNull(4096));
    }

    [Fact]
    public void Indexing_outside_the_array_throws()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<long>(arena, 100, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Read(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetOrAdd(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.HasChunk(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.CopyTo(90, new long[11]));
    }

    [Fact]
    public void Threads_racing_for_a_chunk_share_one_and_lose_no_update()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<long>(arena, 1 << 16, 12);
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                Interlocked.Increment(ref a.GetOrAdd(((long)i * 7919) & 0xFFFF));
            }
        });

        long sum = 0;
        for (long i = 0; i < a.Length; i++)
        {
            sum += a.Read(i);
        }

        Assert.Equal(8 * 20_000, sum);
        Assert.Equal(16, a.AllocatedChunks);
        Assert.Equal(((1 << 16) + 16) * sizeof(long), arena.AllocatedBytes);
    }

    [Fact]
    public void A_chunk_starts_as_its_initialiser_wrote_it_once()
    {
        using var arena = new NativeArena();
        var calls = new List<long>();
        var a = new ChunkedNativeArray<long>(arena, 1000, 8, (chunk, elements) =>
        {
            calls.Add(chunk);
            for (int i = 0; i < elements.Length; i++)
            {
                elements[i] = (chunk << 8) + i + 1;
            }
        });
        Assert.Equal(0, a.Read(5)); // not allocated: the class reads default
        a.GetOrAdd(300) += 1000;
        a.GetOrAdd(301) += 1000;
        Assert.Equal([1L], calls);
        Assert.Equal(301 + 1000, a.Read(300));
        Assert.Equal(302 + 1000, a.Read(301));
        Assert.Equal(257, a.Read(256));
        Span<long> last = a.GetOrAddSpan(768, 232); // the last chunk is cut to 232 elements
        Assert.Equal([1L, 3L], calls);
        Assert.Equal(1000, last[^1]);
    }

    [Fact]
    public void Chunks_are_carved_from_slabs_in_order()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<int>(arena, 1 << 20, 10, chunksPerSlab: 4);
        int directoryBlocks = arena.BlockCount;
        long directoryBytes = arena.AllocatedBytes;
        for (int chunk = 0; chunk < 5; chunk++)
        {
            a.GetOrAdd((long)chunk * 7 << 10) = chunk + 1;
        }

        // Five chunks: one slab of four and a second slab.
        Assert.Equal(directoryBlocks + 2, arena.BlockCount);
        Assert.Equal(directoryBytes + (2L * 4 * 1024 * sizeof(int)), arena.AllocatedBytes);
        Assert.Equal(5, a.AllocatedChunks);
        for (int chunk = 0; chunk < 5; chunk++)
        {
            Assert.Equal(chunk + 1, a.Read((long)chunk * 7 << 10));
            Assert.Equal(0, a.Read(((long)chunk * 7 << 10) + 1023));
        }
    }

    [Fact]
    public void Readers_racing_a_chunk_into_being_see_it_initialised()
    {
        using var arena = new NativeArena();
        var a = new ChunkedNativeArray<long>(arena, 1 << 20, 10, (chunk, elements) => elements.Fill(chunk + 1), chunksPerSlab: 16);
        long torn = 0;
        Parallel.For(0, 8, t =>
        {
            var rng = new Random(t);
            for (int i = 0; i < 50_000; i++)
            {
                long index = rng.Next(1 << 20);
                ref long element = ref a.RefOrNull(index);
                long seen = Unsafe.IsNullRef(ref element) ? a.GetOrAdd(index) : element;
                if (seen != (index >> 10) + 1)
                {
                    Interlocked.Increment(ref torn);
                }
            }
        });

        Assert.Equal(0, torn);
        Assert.Equal(1024, a.AllocatedChunks);
    }
}

[Collection(NativeMemoryCollection.Name)]
public sealed class ChunkedNativeArrayMemoryTests
{
    [Fact]
    public void Chunks_are_freed_with_their_arena()
    {
        long before = NativeArena.LiveBytes;
        var arena = new NativeArena();
        var a = new ChunkedNativeArray<long>(arena, 1 << 20, 10);
        for (long i = 0; i < a.Length; i += 4096)
        {
            a.GetOrAdd(i) = i;
        }

        Assert.Equal(256, a.AllocatedChunks);
        Assert.Equal(before + arena.AllocatedBytes, NativeArena.LiveBytes);
        arena.Dispose();
        Assert.Equal(before, NativeArena.LiveBytes);
    }
}
