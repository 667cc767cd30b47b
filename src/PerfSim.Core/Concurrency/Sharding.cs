using System.Numerics;

namespace PerfSim.Core.Concurrency;

/// <summary>
/// The one sharding formula of PerfSim: how many shards a lock-striped structure gets, and which
/// shard a key falls in.
/// </summary>
/// <remarks>
/// <para><b>Shard count.</b> Twice the host's processor count, rounded up to a power of two (so the
/// shard is a mask, not a division), at least 64, capped per structure. The floor: on a 2-core
/// host, 4 shards made the engine's two host threads share a shard lock (and its cache line) on a
/// quarter of their inserts into unrelated chunks. Twice, because contention is
/// proportional to the number of threads that can hold a lock at once (at most the processor
/// count) and a factor of two halves the chance that two of them collide for little memory;
/// more shards buy nothing once each running thread almost always has its own. The count depends
/// on the host, which is allowed because sharding decides only which lock is taken, never the
/// simulated result: every functional outcome is the same for any shard count (the page-cache
/// tests run with 1 and with many shards).</para>
/// <para><b>Page-cache cap, 256.</b> 256 locks are 256 small objects; beyond that the shards outnumber
/// any realistic host thread count by far (a 128-core host gets 256), while the cost of the rare
/// operation that walks all shards keeps growing.</para>
/// <para><b>Page-cache key.</b> A shard covers a whole 2 MiB-aligned run of 512 indices of one
/// mapping (one slot chunk, the size of one xarray leaf node's worth of PMD): a folio of order up
/// to 9 is naturally aligned, so it never straddles two shards, and a truncate walks 512
/// consecutive indices under one lock. Chunks of different mappings and different offsets are
/// spread by Fibonacci hashing (multiplication by 2^64/φ), which mixes the mapping id in the high
/// bits with the chunk number in the low bits; the result is deterministic (no address hashing).</para>
/// </remarks>
public static class Sharding
{
    /// <summary>Upper bound on page-cache shards (see remarks).</summary>
    public const int PageCacheShardCap = 256;

    /// <summary>log2 of the indices per page-cache shard chunk: 512 = one 2 MiB folio.</summary>
    public const int PageCacheChunkShift = 9;

    private const ulong GoldenRatio64 = 0x9E3779B97F4A7C15UL;

    /// <summary>Floor on the shard count: on a small host, a handful of shards made two host threads
    /// inserting into unrelated chunks share a lock (and its cache line) a quarter of the time.</summary>
    private const int MinShards = 64;

    /// <summary>2 × processors, rounded up to a power of two, at least 64 and at most <paramref name="cap"/> (itself a power of two).</summary>
    public static int ShardCountFor(int cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, 1);
        if (!BitOperations.IsPow2(cap))
        {
            throw new ArgumentException("the cap must be a power of two", nameof(cap));
        }

        return (int)Math.Min((uint)cap, Math.Max(MinShards, BitOperations.RoundUpToPowerOf2((uint)(2 * Environment.ProcessorCount))));
    }

    /// <summary>The page-cache shard of (<paramref name="mapping"/>, <paramref name="index"/>) for
    /// <paramref name="shardCount"/> shards (a power of two).</summary>
    public static int PageCacheShard(ushort mapping, long index, int shardCount)
    {
        ulong key = ((ulong)mapping << 40) ^ (ulong)(index >> PageCacheChunkShift);
        return (int)((key * GoldenRatio64) >> 32) & (shardCount - 1);
    }
}
