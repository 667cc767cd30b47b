using System.Runtime.CompilerServices;

namespace PerfSim.Core.Memory;

/// <summary>
/// A zero-initialised array in native memory whose fixed-size chunks are allocated from a
/// <see cref="NativeArena"/> only when first written: a chunk never written costs nothing but its
/// 8-byte pointer, and reads of it return <c>default</c>. For host-sized tables of which a run
/// touches a small part (the TLB's per-2 MiB-region holder masks on a 1 TiB host running a 1 GiB
/// guest).
/// </summary>
/// <remarks>
/// <para>Chunks never move and are never freed before the arena is disposed, so a reference from
/// <see cref="GetOrAdd"/> stays valid.</para>
/// <para>Thread safety: <see cref="GetOrAdd"/> may be called from several threads; a chunk is
/// created (and initialised, when the array has an initialiser) under a lock and published with one
/// pointer-sized volatile write, so a reader running beside it sees either no chunk or the whole
/// initialised chunk. Elements themselves are
/// plain memory: the caller synchronises their contents (e.g. with <see cref="Interlocked"/> on the
/// reference).</para>
/// </remarks>
public sealed unsafe class ChunkedNativeArray<T> where T : unmanaged
{
    private readonly NativeArena _arena;
    private readonly nint* _chunks;
    private readonly int _shift;
    private readonly long _mask;
    private readonly Lock _lock = new();
    private readonly ChunkInitializer? _initialize;
    private readonly int _chunksPerSlab;
    private T* _slab;
    private int _slabLeft;
    private int _allocated;

    /// <summary>Fills a chunk just allocated (zeroed) with the elements it starts with: the
    /// chunk's number and its elements.</summary>
    public delegate void ChunkInitializer(long chunk, Span<T> elements);

    /// <summary>An array of <paramref name="length"/> elements in chunks of 2^<paramref name="chunkShift"/>.</summary>
    /// <param name="arena">Where the chunks come from.</param>
    /// <param name="length">Elements.</param>
    /// <param name="chunkShift">Log2 of the elements per chunk.</param>
    /// <param name="initialize">What a chunk holds before it is first written (null: zeros); an
    /// element of a chunk never allocated still reads as <c>default</c> through this class.</param>
    /// <param name="chunksPerSlab">Chunks taken from the arena at once (one block, carved in
    /// order): small chunks of a table touched in scattered order then share a few large blocks
    /// (huge pages for the host's TLB) instead of one allocation each.</param>
    public ChunkedNativeArray(NativeArena arena, long length, int chunkShift, ChunkInitializer? initialize = null, int chunksPerSlab = 1)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkShift, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 30);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunksPerSlab, 1);
        _arena = arena;
        _shift = chunkShift;
        _mask = (1L << chunkShift) - 1;
        _initialize = initialize;
        _chunksPerSlab = chunksPerSlab;
        Length = length;
        _chunks = (nint*)Unsafe.AsPointer(ref arena.Allocate<nint>(Math.Max(1, (length + _mask) >> chunkShift))[0]);
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Elements per chunk.</summary>
    public int ChunkLength => (int)(_mask + 1);

    /// <summary>Chunks allocated so far.</summary>
    public int AllocatedChunks => Volatile.Read(ref _allocated);

    /// <summary>Element <paramref name="index"/>, or <c>default</c> when its chunk was never written.
    /// The chunk pointer is read with acquire semantics; the element is a plain read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read(long index)
    {
        CheckIndex(index);
        T* chunk = (T*)Volatile.Read(ref _chunks[index >> _shift]);
        return chunk is null ? default : chunk[index & _mask];
    }

    /// <summary>A reference to element <paramref name="index"/>, or a null reference
    /// (<see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>) when its chunk was never written: for
    /// callers that read the element with their own ordering (e.g. <c>Volatile.Read</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T RefOrNull(long index)
    {
        CheckIndex(index);
        T* chunk = (T*)Volatile.Read(ref _chunks[index >> _shift]);
        return ref chunk is null ? ref Unsafe.NullRef<T>() : ref chunk[index & _mask];
    }

    /// <summary>Whether the chunk holding element <paramref name="index"/> was allocated (when not,
    /// the element is <c>default</c> and nothing needs clearing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool HasChunk(long index)
    {
        CheckIndex(index);
        return Volatile.Read(ref _chunks[index >> _shift]) != 0;
    }

    /// <summary>A reference to element <paramref name="index"/>, allocating its chunk (zeroed) first
    /// if needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T GetOrAdd(long index)
    {
        CheckIndex(index);
        T* chunk = (T*)Volatile.Read(ref _chunks[index >> _shift]);
        if (chunk is null)
        {
            chunk = AddChunk(index >> _shift);
        }

        return ref chunk[index & _mask];
    }

    /// <summary>The <paramref name="count"/> elements from <paramref name="start"/>, which must lie
    /// in one chunk, allocating that chunk (zeroed) first if needed.</summary>
    public Span<T> GetOrAddSpan(long start, int count)
    {
        if ((ulong)start >= (ulong)Length || count < 0 || count > Length - start || ((start & _mask) + count) > _mask + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"[{start}, {start}+{count}) is not inside one chunk of 2^{_shift} of a chunked array of length {Length}");
        }

        T* chunk = (T*)Volatile.Read(ref _chunks[start >> _shift]);
        if (chunk is null)
        {
            chunk = AddChunk(start >> _shift);
        }

        return new Span<T>(chunk + (start & _mask), count);
    }

    /// <summary>Copies elements [<paramref name="start"/>, <paramref name="start"/> + length of
    /// <paramref name="destination"/>) into it, <c>default</c> for chunks never written.</summary>
    public void CopyTo(long start, Span<T> destination)
    {
        if ((ulong)start > (ulong)Length || (ulong)destination.Length > (ulong)(Length - start))
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, $"range outside chunked array of length {Length}");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Read(start + i);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private T* AddChunk(long chunk)
    {
        lock (_lock)
        {
            nint p = _chunks[chunk];
            if (p == 0)
            {
                long count = Math.Min(_mask + 1, Length - (chunk << _shift));
                p = (nint)Carve(count);
                _initialize?.Invoke(chunk, new Span<T>((T*)p, (int)count));
                Volatile.Write(ref _chunks[chunk], p);
                _allocated++;
            }

            return (T*)p;
        }
    }

    /// <summary>The next chunk's memory (zeroed), from the current slab or a new one.</summary>
    private T* Carve(long count)
    {
        if (_chunksPerSlab == 1)
        {
            return (T*)Unsafe.AsPointer(ref _arena.Allocate<T>(count)[0]);
        }

        if (_slabLeft == 0)
        {
            _slab = (T*)Unsafe.AsPointer(ref _arena.Allocate<T>((_mask + 1) * _chunksPerSlab)[0]);
            _slabLeft = _chunksPerSlab;
        }

        T* p = _slab;
        _slab += _mask + 1;
        _slabLeft--;
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(long index)
    {
        if ((ulong)index >= (ulong)Length)
        {
            ThrowIndex(index, Length);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowIndex(long index, long length) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"index outside chunked native array of length {length}");
}
