using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace PerfSim.Core.Memory;

/// <summary>
/// The one owner of native memory in PerfSim. Every per-frame, per-entry and per-CPU array of the
/// model is carved from an arena, and disposing the arena frees all of it.
/// </summary>
/// <remarks>
/// <para>Why native memory: a simulated host of 1 TiB has 268 million 4 KiB frames. Managed arrays
/// of that size would sit in the large-object heap, be scanned by nothing but still be zeroed
/// and committed up front by the GC; native blocks are allocated once, aligned to cache lines,
/// never moved, and their lifetime is explicit.</para>
/// <para>Alignment: every block is aligned to <see cref="CacheLine"/> bytes so that per-CPU
/// state can be padded to whole lines. Blocks are zeroed on allocation: the model relies on
/// "all-zero is the empty state" for every table.</para>
/// <para>Thread safety: <see cref="Allocate{T}"/> may be called from several threads (pools that
/// grow during a run, e.g. page-cache slot chunks and direct-map PTE tables, share one arena);
/// <see cref="Dispose"/> is the owner's teardown, after every user is done. The process-wide
/// <see cref="LiveBytes"/> counter is updated atomically so tests can prove that native memory
/// returns to zero.</para>
/// </remarks>
public sealed unsafe partial class NativeArena : IDisposable
{
    /// <summary>Alignment of every block: 128 bytes covers x64's adjacent-line prefetcher and
    /// arm64's 128-byte lines, so padded per-CPU state never shares a line.</summary>
    public const int CacheLine = 128;

    /// <summary>Blocks of at least this size are aligned to it and advised to use huge pages: the
    /// per-frame tables span tens of MiB (the frame table of a 32 GiB host alone is 16,384 4 KiB
    /// pages), more than the host's TLB reaches with small pages.</summary>
    private const long HugePage = 2 * 1024 * 1024;

    /// <summary><c>MADV_HUGEPAGE</c> (asm-generic/mman-common.h, the same on every Linux architecture).</summary>
    private const int MadvHugepage = 14;

    private static bool s_adviseHugePages = OperatingSystem.IsLinux();
    private static long s_liveBytes;
    private static long s_liveBlocks;

    private readonly List<(nint Pointer, long Bytes)> _blocks = [];
    private readonly Lock _lock = new();
    private long _bytes;
    private bool _disposed;

    /// <summary>Native bytes currently allocated by all arenas in this process.</summary>
    public static long LiveBytes => Interlocked.Read(ref s_liveBytes);

    /// <summary>Native blocks currently allocated by all arenas in this process.</summary>
    public static long LiveBlocks => Interlocked.Read(ref s_liveBlocks);

    /// <summary>Bytes this arena owns now (0 after <see cref="Dispose"/>).</summary>
    public long AllocatedBytes => Interlocked.Read(ref _bytes);

    /// <summary>Blocks this arena owns now.</summary>
    public int BlockCount => _blocks.Count;

    /// <summary>Allocates a zeroed, cache-line-aligned array of <paramref name="length"/> elements.</summary>
    public NativeArray<T> Allocate<T>(long length) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long bytes = checked(Math.Max(1, length) * sizeof(T));
        bool huge = bytes >= HugePage && s_adviseHugePages;
        // AlignedAlloc throws OutOfMemoryException itself when the allocation fails.
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, huge ? (nuint)HugePage : CacheLine);
        if (huge)
        {
            // Before the first touch (the clear below), so that the kernel backs the block with
            // 2 MiB pages where transparent huge pages are on "madvise" (the common default).
            // Advice only: a failure changes nothing but speed.
            try
            {
                _ = Madvise(p, (nuint)bytes, MadvHugepage);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                s_adviseHugePages = false;
            }
        }

        NativeMemory.Clear(p, (nuint)bytes);
        lock (_lock)
        {
            _blocks.Add(((nint)p, bytes));
            _bytes += bytes;
        }

        Interlocked.Add(ref s_liveBytes, bytes);
        Interlocked.Increment(ref s_liveBlocks);
        return new NativeArray<T>((T*)p, length);
    }

    /// <summary>Frees every block. Arrays handed out before become invalid.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach ((nint pointer, long bytes) in _blocks)
        {
            NativeMemory.AlignedFree((void*)pointer);
            Interlocked.Add(ref s_liveBytes, -bytes);
            Interlocked.Decrement(ref s_liveBlocks);
        }

        _blocks.Clear();
        _bytes = 0;
        GC.SuppressFinalize(this);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Madvise(void* address, nuint length, int advice);

    private static long s_leaked;

    /// <summary>Arenas the finalizer freed because nobody disposed them (e.g. an owner whose
    /// constructor threw after making its arena). Counted, not asserted: a failing assert on the
    /// finalizer thread would take the whole test host down in Debug.</summary>
    public static long LeakedArenas => Interlocked.Read(ref s_leaked);

    /// <summary>A leaked arena still frees its memory, and is counted (<see cref="LeakedArenas"/>).</summary>
    ~NativeArena()
    {
        Interlocked.Increment(ref s_leaked);
        Dispose();
    }
}

/// <summary>
/// A fixed-length array in native memory owned by a <see cref="NativeArena"/>. A value type
/// holding a pointer and a length: copying it copies the view, not the data.
/// </summary>
/// <remarks>Indexing is bounds-checked with one unsigned compare: the model is exact about
/// pfns, and an out-of-range pfn is a model bug that must fail loudly, not corrupt memory.</remarks>
public readonly unsafe struct NativeArray<T> where T : unmanaged
{
    private readonly T* _items;

    internal NativeArray(T* items, long length)
    {
        _items = items;
        Length = length;
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>True when the array was never allocated (default value).</summary>
    public bool IsDefault => _items is null;

    /// <summary>A reference to element <paramref name="index"/>.</summary>
    public ref T this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Length)
            {
                ThrowIndex(index, Length);
            }

            return ref _items[index];
        }
    }

    /// <summary>Asks the host CPU to start loading the cache line of element <paramref name="index"/>
    /// (x86 PREFETCHT0). A hint for sequential walks: nothing is read or written, and an index
    /// outside the array is ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(long index)
    {
        if (Sse.IsSupported && (ulong)index < (ulong)Length)
        {
            Sse.Prefetch0(_items + index);
        }
    }

    /// <summary>A span over <paramref name="count"/> elements from <paramref name="start"/>.</summary>
    public Span<T> Slice(long start, int count)
    {
        if ((ulong)start > (ulong)Length || (ulong)count > (ulong)(Length - start))
        {
            ThrowIndex(start + count, Length);
        }

        return new Span<T>(_items + start, count);
    }

    /// <summary>Sets <paramref name="count"/> elements from <paramref name="start"/> to <paramref name="value"/>.</summary>
    public void Fill(long start, long count, T value)
    {
        if ((ulong)start > (ulong)Length || (ulong)count > (ulong)(Length - start))
        {
            ThrowIndex(start + count, Length);
        }

        while (count > 0)
        {
            int chunk = (int)Math.Min(count, int.MaxValue);
            new Span<T>(_items + start, chunk).Fill(value);
            start += chunk;
            count -= chunk;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowIndex(long index, long length) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"index outside native array of length {length}");
}
