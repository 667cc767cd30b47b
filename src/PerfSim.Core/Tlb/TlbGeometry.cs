namespace PerfSim.Core.Tlb;

/// <summary>One set-associative TLB array: <see cref="Sets"/> × <see cref="Ways"/> entries holding the
/// page sizes flagged. Sets must be a power of two (the index is the low bits of the virtual page
/// number at the entry's size, as in hardware).</summary>
public sealed record TlbArrayGeometry(int Sets, int Ways, bool Holds4K, bool Holds2M, bool Holds1G)
{
    public int Entries => Sets * Ways;

    internal bool Holds(PageLevel level) => level switch
    {
        PageLevel.Level4K => Holds4K,
        PageLevel.Level2M => Holds2M,
        PageLevel.Level1G => Holds1G,
        _ => false,
    };
}

/// <summary>
/// The per-CPU data-TLB geometry: which arrays exist, their sets and ways, and which page sizes
/// each one caches.
/// </summary>
/// <remarks>
/// <para>Only the last-level (second-level) data TLB is modelled. A page walk, the cost that
/// matters for TLB reach, happens only when the last level misses; an L1 DTLB miss that hits the
/// STLB costs about 9 cycles and is ignored. The L1 DTLB holds a subset of the STLB's entries, so
/// for stale-entry exposure the last level is the upper bound.</para>
/// <para>Replacement is true LRU per set, invalid ways first (deterministic). Real parts use
/// pseudo-LRU trees; the difference does not change reach or refill counts materially.</para>
/// </remarks>
public sealed record TlbGeometry(string Part, string Source, IReadOnlyList<TlbArrayGeometry> Arrays)
{
    /// <summary>Intel Skylake-SP (Xeon Scalable 1st gen) STLB: 1536 entries 12-way shared by 4K and
    /// 2M pages (128 sets), and 16 entries 4-way for 1G pages.</summary>
    public static TlbGeometry SkylakeSp { get; } = new(
        "Intel Skylake-SP",
        "Intel 64 and IA-32 Architectures Optimization Reference Manual (248966-045, Feb 2022), Table 2-15 "
        + "(Skylake client TLB parameters, same core as Skylake-SP): STLB 4K+2M 1536 entries 12-way; 1G 16 entries 4-way. "
        + "Note: CPUID leaf 2 on a Skylake-SP reports the STLB as 6-way (Intel community thread 1371605).",
        [new TlbArrayGeometry(128, 12, true, true, false), new TlbArrayGeometry(4, 4, false, false, true)]);

    /// <summary>AMD Zen 3 (Milan, the INVLPGB machine of docs/tlb-flush-costs.md) L2 DTLB: 2048 entries
    /// 16-way for 4K and 2M (128 sets); 1G translations kept in a 64-entry fully associative array
    /// (the L1 DTLB, which holds all sizes).</summary>
    public static TlbGeometry AmdZen3 { get; } = new(
        "AMD Zen 3 (Milan)",
        "AMD Software Optimization Guide for Family 19h (recalled, not re-read in this session: UNVERIFIED): "
        + "L2 DTLB 2048 entries for 4K/2M; L1 DTLB 64 entries fully associative, all page sizes.",
        [new TlbArrayGeometry(128, 16, true, true, false), new TlbArrayGeometry(1, 64, false, false, true)]);

    /// <summary>Arm Neoverse N1 / Cortex-A76 L2 TLB: 1280 entries, 5-way (256 sets), shared by all
    /// page and block sizes including 2M and 1G.</summary>
    public static TlbGeometry NeoverseN1 { get; } = new(
        "Arm Neoverse N1 (Cortex-A76 core)",
        "Arm Cortex-A76 Core TRM, §A5.2.3 L2 TLB: 5-way set associative, 1280 entries, stores 4KB..1GB block sizes "
        + "(Neoverse N1 is the A76 core with infrastructure enhancements).",
        [new TlbArrayGeometry(256, 5, true, true, true)]);

    /// <summary>Entries per CPU over all arrays.</summary>
    public int EntriesPerCpu => Arrays.Sum(a => a.Entries);

    /// <summary>Throws when the geometry cannot be simulated.</summary>
    public void Validate()
    {
        if (Arrays.Count == 0)
        {
            throw new ArgumentException("TLB geometry needs at least one array", nameof(Arrays));
        }

        foreach (TlbArrayGeometry a in Arrays)
        {
            if (a.Sets < 1 || (a.Sets & (a.Sets - 1)) != 0 || a.Ways < 1 || a.Ways > 64)
            {
                throw new ArgumentException($"TLB array {a.Sets}x{a.Ways}: sets must be a power of two, ways 1..64", nameof(Arrays));
            }
        }

        if (EntriesPerCpu > ushort.MaxValue)
        {
            throw new ArgumentException("TLB geometry larger than 65535 entries per CPU", nameof(Arrays));
        }

        foreach (PageLevel level in (ReadOnlySpan<PageLevel>)[PageLevel.Level4K, PageLevel.Level2M, PageLevel.Level1G])
        {
            if (Arrays.Count(a => a.Holds(level)) != 1)
            {
                throw new ArgumentException($"exactly one TLB array must hold {level} entries", nameof(Arrays));
            }
        }
    }
}
