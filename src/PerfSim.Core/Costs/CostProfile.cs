using System.Text.Json;

namespace PerfSim.Core.Costs;

/// <summary>
/// Nanoseconds per primitive for one architecture. Simulated time is charged only from these
/// numbers; end-to-end latencies and rates emerge from the model (docs/tlb-flush-costs.md).
/// </summary>
/// <remarks>
/// <para>Defaults are derived from the measured costs in docs/tlb-flush-costs.md; each property names its source. Cycle
/// counts from Hansen 2014 (IvyBridge i5-3320M) are converted at 2.6 GHz, the part's nominal (TSC)
/// frequency, after removing his ~335-cycle tracepoint bias. "ESTIMATE" marks a prior with no
/// measured source: a value to fit, not a fact. docs/tlb-flush-costs.md has the derivations.</para>
/// <para>Load overrides with <see cref="FromJson(string)"/>: a JSON object whose optional
/// <c>"arch"</c> selects the defaults and whose other keys (camelCase property names) replace
/// single fields.</para>
/// </remarks>
public sealed record CostProfile
{
    /// <summary>The architecture whose defaults this profile started from.</summary>
    public ArchKind Arch { get; init; }

    /// <summary>One INVLPG of a 4K kernel address. 98 ns: slope of the F1 fit (254 cycles/page at
    /// 2.6 GHz; C12), matching the kernel comment's "about 100 ns" (C2).</summary>
    public long InvlpgNs { get; init; } = 98;

    /// <summary>Fixed overhead of one local flush call (flush info setup, preempt, IRQ-off
    /// bookkeeping). 317 ns: intercept of the F1 fit (825 cycles, C12, bias removed).</summary>
    public long FlushBaseNs { get; init; } = 317;

    /// <summary>One full TLB flush on a CPU (INVPCID all / CR4.PGE toggle), excluding the refill
    /// that follows (the TLB model produces that). 432 ns: F1 "full flush" row 2283 cycles − bias −
    /// base (C12); C6 says full ≈ a single INVLPG plus a few percent, C3 96 cycles for the bare
    /// instruction.</summary>
    public long FullFlushNs { get; init; } = 432;

    /// <summary>Initiator cost of sending the IPIs of one <c>on_each_cpu</c> (ICR writes, csd
    /// queueing). 100 ns: ESTIMATE, part of the 775 ns first-remote increment of C14.</summary>
    public long IpiSendNs { get; init; } = 100;

    /// <summary>IPI delivery latency to the first target. 450 ns: ESTIMATE, part of C14's 775 ns.</summary>
    public long IpiDeliveryNs { get; init; } = 450;

    /// <summary>Fixed handler time on each target (interrupt entry/exit, csd processing), on top
    /// of its INVLPGs or full flush. 225 ns: ESTIMATE; send + delivery + handler = 775 ns = C14.</summary>
    public long IpiHandlerNs { get; init; } = 225;

    /// <summary>Extra initiator wait per target beyond the first. 68 ns: C14 (+135 ns for 2 more
    /// targets, Amit 2019 baseline).</summary>
    public long AckWaitPerExtraTargetNs { get; init; } = 68;

    /// <summary>One INVLPGB instruction (up to invlpgb_count_max pages). 40 ns: ESTIMATE; no
    /// absolute INVLPGB latency was found (docs/tlb-flush-costs.md).</summary>
    public long InvlpgbNs { get; init; } = 40;

    /// <summary>One TLBSYNC (waits for every CPU to finish the broadcast invalidations). 500 ns:
    /// ESTIMATE, UNVERIFIED (docs/tlb-flush-costs.md).</summary>
    public long TlbsyncNs { get; init; } = 500;

    /// <summary>arm64 fixed cost of a broadcast TLBI sequence: DSB ISHST + final DSB ISH (waiting
    /// for the broadcast to complete, 95% of ptep_clear_flush per C20) + ISB. 386 ns: intercept of
    /// the F4 fit (9650 units, C19) at an assumed 0.04 ns/unit (the FPGA units are unknown).</summary>
    public long TlbiSyncNs { get; init; } = 386;

    /// <summary>arm64 one TLBI VAALE1IS (one page). 20 ns: F4 slope 500 units/page (C19) × 0.04 ns/unit.</summary>
    public long TlbiPageNs { get; init; } = 20;

    /// <summary>arm64 one range TLBI (RVAALE1IS). 58 ns: flat F4 range column ≈ 11,100 units (C19)
    /// minus the sync intercept, × 0.04 ns/unit.</summary>
    public long TlbiRangeOpNs { get; init; } = 58;

    /// <summary>arm64 TLBI VMALLE1IS (all entries), on top of the sync. 40 ns: ESTIMATE (two TLBI ops).</summary>
    public long TlbiAllNs { get; init; } = 40;

    /// <summary>One page walk after a TLB miss. 17 ns: C7 (IvyBridge dTLB walk 17.1 ns; C9 13.4 ns on SandyBridge-EP).</summary>
    public long PageWalkNs { get; init; } = 17;

    /// <summary>Writing one direct-map PTE under cpa_lock. 5 ns: ESTIMATE (a cached store plus the
    /// lookup_address walk is in <see cref="PageWalkNs"/>).</summary>
    public long PteWriteNs { get; init; } = 5;

    /// <summary>Allocating one page-table page (order-0 fast path, GFP_PGTABLE_KERNEL, zeroed).
    /// 250 ns: ESTIMATE (per-call split cost is "an unknown to fit", docs/tlb-flush-costs.md).</summary>
    public long PageTableAllocNs { get; init; } = 250;

    /// <summary>Zeroing 4 KiB (clear_page). 200 ns: ESTIMATE (~20 GB/s rep stos).</summary>
    public long Zero4KNs { get; init; } = 200;

    /// <summary>Copying 4 KiB (copy_page / memcpy). 300 ns: ESTIMATE (~13 GB/s).</summary>
    public long Copy4KNs { get; init; } = 300;

    /// <summary>Handing a contended lock from one CPU to another (cache-line transfer). 100 ns: ESTIMATE.</summary>
    public long LockHandoffNs { get; init; } = 100;

    /// <summary>A guest page fault's fixed part (EPT/stage-2 violation exit, KVM MMU walk, SPTE
    /// install, re-entry), without the guest_memfd work the model adds. 2400 ns: C22 (Firecracker,
    /// 2.93 µs per anonymous guest fault) minus an order-0 allocation and a 4 KiB zeroing.</summary>
    public long GuestFaultBaseNs { get; init; } = 2400;

    /// <summary>A user page fault's fixed part (exception entry/exit, VMA lookup, PTE install).
    /// 250 ns: the fault term of the F2 fit (C13, Amit 2019, 661 ns single-thread loop).</summary>
    public long UserFaultBaseNs { get; init; } = 250;

    /// <summary>A system call's entry and exit plus fd lookup (write()). 100 ns: ESTIMATE.</summary>
    public long SyscallNs { get; init; } = 100;

    /// <summary>An order-0 allocation from the per-CPU list. 60 ns: ESTIMATE.</summary>
    public long FolioAllocNs { get; init; } = 60;

    /// <summary>One per-CPU list refill (rmqueue_bulk of a batch under zone->lock). 1500 ns:
    /// ESTIMATE (63 pages × ~24 ns).</summary>
    public long PcpRefillNs { get; init; } = 1500;

    /// <summary>filemap_add_folio(): memcg charge, xarray store, LRU add. 150 ns: ESTIMATE.</summary>
    public long PageCacheInsertNs { get; init; } = 150;

    /// <summary>One __change_page_attr() round (lookup_address, cpa_lock, static protections),
    /// besides the PTE write. 60 ns: ESTIMATE (no per-call CPA cost is published, docs/tlb-flush-costs.md).</summary>
    public long CpaRoundNs { get; init; } = 60;

    /// <summary>kvm_arch_gmem_prepare() for a non-confidential VM (a no-op call). 20 ns: ESTIMATE.</summary>
    public long GmemPrepareNs { get; init; } = 20;

    /// <summary>Writing one mermap PTE (apply_to_existing_page_range), at get and again at put. 20 ns: ESTIMATE.</summary>
    public long MermapPteNs { get; init; } = 20;

    /// <summary>The built-in defaults for <paramref name="kind"/>. The x86 constants are calibrated
    /// on Intel parts (F1, F2), the arm64 ones on the FPGA shape (F4); fields a kind does not use are
    /// carried unchanged.</summary>
    public static CostProfile Default(ArchKind kind) => new() { Arch = kind };

    private readonly record struct Field(string Name, long Max, Func<CostProfile, long> Get, Func<CostProfile, long, CostProfile> Set);

    private const long MaxNs = 100_000_000;

    private static readonly Field[] s_fields =
    [
        new("invlpgNs", 1_000_000, p => p.InvlpgNs, (p, v) => p with { InvlpgNs = v }),
        new("flushBaseNs", 1_000_000, p => p.FlushBaseNs, (p, v) => p with { FlushBaseNs = v }),
        new("fullFlushNs", 1_000_000, p => p.FullFlushNs, (p, v) => p with { FullFlushNs = v }),
        new("ipiSendNs", 1_000_000, p => p.IpiSendNs, (p, v) => p with { IpiSendNs = v }),
        new("ipiDeliveryNs", 1_000_000, p => p.IpiDeliveryNs, (p, v) => p with { IpiDeliveryNs = v }),
        new("ipiHandlerNs", 1_000_000, p => p.IpiHandlerNs, (p, v) => p with { IpiHandlerNs = v }),
        new("ackWaitPerExtraTargetNs", 1_000_000, p => p.AckWaitPerExtraTargetNs, (p, v) => p with { AckWaitPerExtraTargetNs = v }),
        new("invlpgbNs", 1_000_000, p => p.InvlpgbNs, (p, v) => p with { InvlpgbNs = v }),
        new("tlbsyncNs", 1_000_000, p => p.TlbsyncNs, (p, v) => p with { TlbsyncNs = v }),
        new("tlbiSyncNs", 1_000_000, p => p.TlbiSyncNs, (p, v) => p with { TlbiSyncNs = v }),
        new("tlbiPageNs", 1_000_000, p => p.TlbiPageNs, (p, v) => p with { TlbiPageNs = v }),
        new("tlbiRangeOpNs", 1_000_000, p => p.TlbiRangeOpNs, (p, v) => p with { TlbiRangeOpNs = v }),
        new("tlbiAllNs", 1_000_000, p => p.TlbiAllNs, (p, v) => p with { TlbiAllNs = v }),
        new("pageWalkNs", 1_000_000, p => p.PageWalkNs, (p, v) => p with { PageWalkNs = v }),
        new("pteWriteNs", 1_000_000, p => p.PteWriteNs, (p, v) => p with { PteWriteNs = v }),
        new("pageTableAllocNs", MaxNs, p => p.PageTableAllocNs, (p, v) => p with { PageTableAllocNs = v }),
        new("zero4KNs", MaxNs, p => p.Zero4KNs, (p, v) => p with { Zero4KNs = v }),
        new("copy4KNs", MaxNs, p => p.Copy4KNs, (p, v) => p with { Copy4KNs = v }),
        new("lockHandoffNs", MaxNs, p => p.LockHandoffNs, (p, v) => p with { LockHandoffNs = v }),
        new("guestFaultBaseNs", MaxNs, p => p.GuestFaultBaseNs, (p, v) => p with { GuestFaultBaseNs = v }),
        new("userFaultBaseNs", MaxNs, p => p.UserFaultBaseNs, (p, v) => p with { UserFaultBaseNs = v }),
        new("syscallNs", MaxNs, p => p.SyscallNs, (p, v) => p with { SyscallNs = v }),
        new("folioAllocNs", MaxNs, p => p.FolioAllocNs, (p, v) => p with { FolioAllocNs = v }),
        new("pcpRefillNs", MaxNs, p => p.PcpRefillNs, (p, v) => p with { PcpRefillNs = v }),
        new("pageCacheInsertNs", MaxNs, p => p.PageCacheInsertNs, (p, v) => p with { PageCacheInsertNs = v }),
        new("cpaRoundNs", MaxNs, p => p.CpaRoundNs, (p, v) => p with { CpaRoundNs = v }),
        new("gmemPrepareNs", MaxNs, p => p.GmemPrepareNs, (p, v) => p with { GmemPrepareNs = v }),
        new("mermapPteNs", MaxNs, p => p.MermapPteNs, (p, v) => p with { MermapPteNs = v }),
    ];

    /// <summary>JSON key names of the ns fields, in declaration order.</summary>
    public static IReadOnlyList<string> FieldNames { get; } = [.. s_fields.Select(f => f.Name)];

    /// <summary>Parses a cost profile. <c>"arch"</c> (a CLI name) picks the defaults (x86_64 when
    /// absent); every other key must be one of <see cref="FieldNames"/> with an integer value in its
    /// range.</summary>
    /// <exception cref="CostProfileFormatException">Malformed JSON, unknown key, wrong type or
    /// out-of-range value; the message is one line naming the field and the accepted range.</exception>
    public static CostProfile FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return FromElement(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new CostProfileFormatException("(document)", $"cost profile: not valid JSON: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Parses a cost profile from UTF-8 JSON in <paramref name="utf8Json"/> (not disposed).</summary>
    public static CostProfile FromJson(Stream utf8Json)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(utf8Json);
            return FromElement(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new CostProfileFormatException("(document)", $"cost profile: not valid JSON: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Serialises every field (indented, invariant), readable by <see cref="FromJson(string)"/>.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("arch", Arch.ToCliName());
            foreach (Field f in s_fields)
            {
                writer.WriteNumber(f.Name, f.Get(this));
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Throws <see cref="CostProfileFormatException"/> if any field is out of range.</summary>
    public void Validate()
    {
        foreach (Field f in s_fields)
        {
            long v = f.Get(this);
            if (v < 0 || v > f.Max)
            {
                throw OutOfRange(f, v.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    private static CostProfile FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CostProfileFormatException("(document)", "cost profile: the document must be a JSON object");
        }

        ArchKind arch = ArchKind.X86_64;
        if (root.TryGetProperty("arch", out JsonElement archElement))
        {
            if (archElement.ValueKind != JsonValueKind.String || !ArchKinds.TryParse(archElement.GetString(), out arch))
            {
                throw new CostProfileFormatException("arch", $"cost profile field 'arch' must be one of {string.Join(", ", ArchKinds.CliNames)}");
            }
        }

        CostProfile profile = Default(arch);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.Name == "arch")
            {
                continue;
            }

            int index = Array.FindIndex(s_fields, f => f.Name == property.Name);
            if (index < 0)
            {
                throw new CostProfileFormatException(property.Name,
                    $"cost profile: unknown field '{property.Name}' (accepted: arch, {string.Join(", ", FieldNames)})");
            }

            Field field = s_fields[index];
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out long value))
            {
                throw OutOfRange(field, property.Value.GetRawText());
            }

            if (value < 0 || value > field.Max)
            {
                throw OutOfRange(field, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            profile = field.Set(profile, value);
        }

        return profile;
    }

    private static CostProfileFormatException OutOfRange(Field f, string got) =>
        new(f.Name, $"cost profile field '{f.Name}' must be an integer number of ns in [0, {f.Max}], got {FirstLine(got)}");

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }
}

/// <summary>A cost profile that cannot be used; <see cref="Field"/> names the offending key.</summary>
public sealed class CostProfileFormatException : FormatException
{
    public CostProfileFormatException()
        : this("(unknown)", "invalid cost profile")
    {
    }

    public CostProfileFormatException(string message)
        : this("(unknown)", message)
    {
    }

    public CostProfileFormatException(string message, Exception innerException)
        : this("(unknown)", message, innerException)
    {
    }

    public CostProfileFormatException(string field, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Field = field;
    }

    /// <summary>The JSON key at fault, or "(document)" for malformed JSON.</summary>
    public string Field { get; }
}
