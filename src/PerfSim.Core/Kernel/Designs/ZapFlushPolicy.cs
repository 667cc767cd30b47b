using System.Globalization;

namespace PerfSim.Core.Kernel;

/// <summary>The three flush policies of <see cref="ZapFlushPolicy"/>.</summary>
public enum ZapFlushKind : byte
{
    /// <summary>One <c>flush_tlb_kernel_range()</c> per zap (v8 onwards: the series today).</summary>
    Every,

    /// <summary>One flush per N zaps of a CPU, over all their ranges.</summary>
    Batch,

    /// <summary>No flush at all (v5).</summary>
    None,
}

/// <summary>
/// When a per-folio design flushes its zaps from the TLBs (<c>flush_policy</c>). The series went
/// through all three: v5 flushed nothing, v7 flushed with a module parameter to opt out, v8 made
/// the flush unconditional. <c>batch:N</c> asks "what if we batched?": each CPU keeps its zapped
/// ranges and flushes them in one call every N zaps, by the architecture's ceiling rule
/// (<see cref="Flush.IFlushModel.IsFullFlush"/>: on x86 more than 33 pages is a full flush).
/// </summary>
public readonly record struct ZapFlushPolicy
{
    /// <summary>The largest batch: one pageblock's worth of 4 KiB zaps, what ALLOC_UNMAPPED
    /// amortises one flush over.</summary>
    public const int MaxBatch = (int)PageGeometry.PagesPer2M;

    /// <summary>What the setting accepts, as errors say it.</summary>
    public static readonly string Accepts = string.Create(CultureInfo.InvariantCulture, $"every, none or batch:N with N from 2 to {MaxBatch}");

    private ZapFlushPolicy(ZapFlushKind kind, int batchZaps)
    {
        Kind = kind;
        BatchZaps = batchZaps;
    }

    public ZapFlushKind Kind { get; }

    /// <summary>Zaps per flush for <see cref="ZapFlushKind.Batch"/>; 1 for every, 0 for none.</summary>
    public int BatchZaps { get; }

    public static ZapFlushPolicy Every { get; } = new(ZapFlushKind.Every, 1);

    public static ZapFlushPolicy None { get; } = new(ZapFlushKind.None, 0);

    public static ZapFlushPolicy Batch(int zaps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(zaps, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(zaps, MaxBatch);
        return new(ZapFlushKind.Batch, zaps);
    }

    /// <summary>The name users type: <c>every</c>, <c>none</c>, <c>batch:16</c>.</summary>
    public string Name => Kind switch
    {
        ZapFlushKind.Every => "every",
        ZapFlushKind.None => "none",
        _ => string.Create(CultureInfo.InvariantCulture, $"batch:{BatchZaps}"),
    };

    public override string ToString() => Name;

    public static bool TryParse(string? text, out ZapFlushPolicy policy)
    {
        policy = Every;
        switch (text)
        {
            case "every":
                return true;
            case "none":
                policy = None;
                return true;
        }

        const string Prefix = "batch:";
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal)
            || !int.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || n < 2 || n > MaxBatch)
        {
            return false;
        }

        policy = Batch(n);
        return true;
    }
}
