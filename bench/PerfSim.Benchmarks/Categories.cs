namespace PerfSim.Benchmarks;

/// <summary>
/// Every benchmark carries exactly one of these (checked by <see cref="Infrastructure.SuiteRulesValidator"/>),
/// so <c>--anyCategories Tlb</c> selects a hot path and reports group by subsystem.
/// </summary>
public static class Categories
{
    public const string PageCache = nameof(PageCache);
    public const string DirectMap = nameof(DirectMap);
    public const string Tlb = nameof(Tlb);
    public const string Flush = nameof(Flush);
    public const string Allocator = nameof(Allocator);
    public const string Mermap = nameof(Mermap);
    public const string Scenario = nameof(Scenario);
    public const string Trace = nameof(Trace);
    public const string Floor = nameof(Floor);

    public static IReadOnlyList<string> All { get; } = [PageCache, DirectMap, Tlb, Flush, Allocator, Mermap, Scenario, Trace, Floor];
}
