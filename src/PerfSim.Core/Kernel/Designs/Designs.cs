namespace PerfSim.Core.Kernel;

/// <summary>The NO_DIRECT_MAP designs a kernel may run, by id and by name.</summary>
public static class Designs
{
    private static readonly Design[] s_byId = Index(
        new DirectMapKeptDesign(),
        new PerFolioDesign(),
        new PerFolioV12Design(),
        new FilemapDesign(),
        new UnmappedAllocDesign());

    /// <summary>Every design, in id order.</summary>
    public static IReadOnlyList<Design> All { get; } = s_byId;

    /// <summary>How guest_memfd files without NO_DIRECT_MAP behave, whatever the kernel's design.</summary>
    public static Design DirectMapKept => s_byId[(int)Strategy.None];

    /// <summary>mm/secretmem.c, as a design: <c>set_direct_map_invalid_noflush</c> before
    /// <c>filemap_add_folio</c>, one ranged flush after it, restore in <c>secretmem_free_folio</c>.
    /// Not a <see cref="Strategy"/>: every kernel has it.</summary>
    public static Design Secretmem { get; } = new SecretmemDesign();

    public static Design For(Strategy strategy) => s_byId[(int)strategy];

    /// <summary>The design of <paramref name="strategy"/> with the flush policy
    /// <paramref name="flush"/>: the registered record itself for every.</summary>
    public static Design For(Strategy strategy, ZapFlushPolicy flush) =>
        flush == ZapFlushPolicy.Every ? For(strategy) : For(strategy) with { ZapFlush = flush };

    public static bool TryParse(string? name, out Design design)
    {
        foreach (Design d in s_byId)
        {
            if (d.Name == name)
            {
                design = d;
                return true;
            }
        }

        design = DirectMapKept;
        return false;
    }

    /// <summary>The designs by id; throws at type load if an id is missing or taken twice.</summary>
    private static Design[] Index(params Design[] designs)
    {
        var byId = new Design[designs.Length];
        foreach (Design d in designs)
        {
            if ((int)d.Id >= byId.Length || byId[(int)d.Id] is not null)
            {
                throw new InvalidOperationException($"design {d.Name}: id {d.Id} is out of range or taken twice");
            }

            byId[(int)d.Id] = d;
        }

        return byId;
    }
}
