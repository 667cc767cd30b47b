using PerfSim.Core;
using PerfSim.Core.Frames;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

/// <summary>The final-state scan takes a chunk that reads as boot left it a direct-map region at a
/// time; it must count and hash exactly what a scan of every frame does.</summary>
public sealed class FinalStateTests
{
    /// <summary>RAM with holes: below 640 KiB, a hole to 1 MiB, up to 1 GiB, a hole, 1.5 GiB from
    /// 2 GiB (ranges that end inside chunks and pageblocks).</summary>
    private const string E820 = """
        BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
        BIOS-e820: [mem 0x0000000000100000-0x000000003fffffff] usable
        BIOS-e820: [mem 0x0000000080000000-0x00000000dfffffff] usable
        BIOS-e820: [mem 0x00000000e0000000-0x00000000e00fffff] reserved
        BIOS-e820: [mem 0x0000000100000000-0x000000013fe7ffff] usable
        """;

    /// <summary>A direct map booted with 4K, 2M and 1G leaves (regions mapped by PTEs from boot on).</summary>
    private const string Meminfo = "MemTotal: 3145728 kB\nDirectMap4k: 262144 kB\nDirectMap2M: 1835008 kB\nDirectMap1G: 1048576 kB\n";

    public static TheoryData<string, Strategy, string> Runs => new()
    {
        { ScenarioNames.GuestBoot, Strategy.PerFolio, "e820" },
        { ScenarioNames.GuestBoot, Strategy.Filemap, "meminfo" },
        { ScenarioNames.VmChurn, Strategy.UnmappedAlloc, "e820" },
        { ScenarioNames.VmChurn, Strategy.PerFolio, "meminfo" },
        { ScenarioNames.SecretmemTouch, Strategy.None, "size" },
        { ScenarioNames.Populate, Strategy.UnmappedAlloc, "size" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void The_scan_by_region_counts_and_hashes_what_a_scan_of_every_frame_does(string scenario, Strategy strategy, string ram)
    {
        using RunScope run = Run(scenario, strategy, ram);
        SimKernel k = run.Kernel;

        // A 2 MiB region of an untouched chunk taken out of the direct map by nobody's design
        // (its free frames count as leaked), beside its mapped half.
        long chunks = k.Frames.EndPfn / FrameTable.ChunkFrames;
        long last = Enumerable.Range(0, (int)chunks).Select(c => (long)c * FrameTable.ChunkFrames).Last(c => k.Frames.TryReadUntouched(c, out _));
        Assert.Equal(0, k.DirectMap.SetValidNoFlush(0, last + PageGeometry.PagesPer2M, PageGeometry.PagesPer2M, valid: false).Error);
        Assert.True(k.Frames.TryReadUntouched(last, out _));

        FinalState byRegion = FinalState.Scan(k, threads: 2);
        (long[] owners, long leaked, ulong hash) = EveryFrame(k);

        Assert.Equal(owners, byRegion.FramesByOwner);
        Assert.Equal(leaked, byRegion.LeakedUnmappedFrames);
        Assert.Equal(hash, byRegion.FrameHash);
        Assert.InRange(leaked, PageGeometry.PagesPer2M, long.MaxValue);

        // Both paths ran: chunks never allocated, and chunks read frame by frame.
        long untouched = Enumerable.Range(0, (int)chunks).Count(c => k.Frames.TryReadUntouched((long)c * FrameTable.ChunkFrames, out _));
        Assert.InRange(untouched, 1, chunks - 1);
    }

    [Fact]
    public void The_runs_cover_holes_regions_mapped_by_ptes_and_unmapped_pageblocks()
    {
        // What the theory above would no longer test if a layout or a design lost its point.
        using (RunScope boot = Run(ScenarioNames.GuestBoot, Strategy.PerFolio, "e820"))
        {
            Assert.True(boot.Kernel.Frames.CountByOwner()[(int)FrameOwner.Hole] > 0);
            Assert.True(boot.Kernel.DirectMap.Level2Splits > 0);
        }

        using (RunScope churn = Run(ScenarioNames.VmChurn, Strategy.UnmappedAlloc, "e820"))
        {
            SimKernel k = churn.Kernel;
            Assert.Contains(Enumerable.Range(0, (int)(k.Frames.EndPfn / PageGeometry.PagesPer2M)), r => k.Allocator.IsPageblockUnmapped(r * PageGeometry.PagesPer2M));
        }

        using RunScope booted4K = Run(ScenarioNames.GuestBoot, Strategy.Filemap, "meminfo");
        Assert.True(booted4K.Kernel.DirectMap.Counts.Entries4K > 0);
    }

    [Theory]
    [InlineData(0, 0, 0UL)]
    [InlineData(5, 1, 1UL)]
    [InlineData(1_000_003, 3, 0xDEAD_BEEFUL)]
    [InlineData(4096, 510, 0x0100_0000_0000_0000UL)]
    [InlineData(1L << 40, 1021, ulong.MaxValue)]
    public void MixSum_is_the_sum_of_each_value_mixed(long start, long count, ulong salt)
    {
        ulong expected = 0;
        for (long p = start; p < start + count; p++)
        {
            expected += Digest.Mix(Digest.Mix((ulong)p) ^ salt);
        }

        Assert.Equal(expected, Digest.MixSum(start, count, salt));
    }

    /// <summary>A small run of <paramref name="scenario"/> on a host given by size, e820 or meminfo, its result not collected.</summary>
    private static RunScope Run(string scenario, Strategy strategy, string ram)
    {
        var config = new ScenarioConfig
        {
            Scenario = scenario,
            Strategy = strategy,
            Cpus = 8,
            Vcpus = 4,
            RamBytes = 3 * PageGeometry.GiB,
            GuestMemoryBytes = 64 * PageGeometry.MiB,
            Pages = 4096,
            Vms = 2,
            Seed = 11,
        };
        DirectMapProfile profile = SimulationRun.DirectMapProfileOf(config);
        HostSpec? host = ram switch
        {
            "e820" => HostSpec.FromE820("x86_64", profile, E820, "e820.txt"),
            "meminfo" => HostSpec.FromMeminfo("x86_64", profile, Meminfo, "meminfo"),
            _ => null,
        };
        RunScope run = RunScope.Start(host is null ? config : config with { RamBytes = host.Layout.RamBytes }, host, null, null);
        try
        {
            SimulationRun.Drive(run);
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>The reference: every frame read and hashed one by one (the scan before regions).</summary>
    private static (long[] Owners, long Leaked, ulong Hash) EveryFrame(SimKernel k)
    {
        long[] owners = new long[Enum.GetValues<FrameOwner>().Length];
        long leaked = 0;
        ulong hash = 0;
        for (long pfn = 0; pfn < k.Frames.EndPfn; pfn++)
        {
            Frame f = k.Frames.Read(pfn);
            DirectMapEntry entry = k.DirectMap.Lookup(pfn);
            owners[(int)f.Owner]++;
            if (f.Owner == FrameOwner.Leaked || (f.Owner == FrameOwner.Free && !entry.IsPresent && !k.Allocator.IsPageblockUnmapped(pfn)))
            {
                leaked++;
            }

            ulong packed = ((ulong)f.Owner << 56) ^ ((ulong)f.Flags << 48) ^ ((ulong)f.MappingId << 32) ^ f.Index;
            hash += Digest.Mix(Digest.Mix((ulong)pfn) ^ packed ^ ((ulong)entry.Flags << 40) ^ ((ulong)entry.Level << 38));
        }

        return (owners, leaked, hash);
    }
}
