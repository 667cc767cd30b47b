using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>Each fault and population price (docs/prices.md) is charged on its path, once per page,
/// and on no other path: raising it by 1 µs moves exactly the paths that pay it.</summary>
public sealed class PricesTests
{
    private const long Bump = 1000;

    /// <summary>The paths of a first touch of one page of a fresh guest_memfd (strategy none).</summary>
    public enum Path
    {
        GuestFault,
        UserFault,
        Memcpy,
        WriteDirectMap,
        WriteMermap,
        GmemPopulate,
    }

    [Theory]
    // arch/x86/kvm: the world switch and kvm_mmu_page_fault → kvm_tdp_mmu_map, guest faults only.
    [InlineData("vm_exit_round_trip_ns", Path.GuestFault, 1)]
    [InlineData("vm_exit_round_trip_ns", Path.UserFault, 0)]
    [InlineData("guest_fault_base_ns", Path.GuestFault, 1)]
    [InlineData("guest_fault_base_ns", Path.Memcpy, 0)]
    // mm/memory.c handle_mm_fault → kvm_gmem_fault_user_mapping: the user fault, also under memcpy.
    [InlineData("user_fault_base_ns", Path.UserFault, 1)]
    [InlineData("user_fault_base_ns", Path.Memcpy, 1)]
    [InlineData("user_fault_base_ns", Path.GuestFault, 0)]
    [InlineData("user_fault_base_ns", Path.GmemPopulate, 0)]
    // write(): the syscall and one generic_perform_write iteration per page (mm/filemap.c).
    [InlineData("syscall_ns", Path.WriteDirectMap, 1)]
    [InlineData("perform_write_ns", Path.WriteDirectMap, 1)]
    [InlineData("perform_write_ns", Path.WriteMermap, 1)]
    [InlineData("perform_write_ns", Path.Memcpy, 0)]
    // kvm_gmem_populate pins its source page with get_user_pages_fast.
    [InlineData("gup_fast_ns", Path.GmemPopulate, 1)]
    [InlineData("gup_fast_ns", Path.WriteMermap, 0)]
    // clear_page of a folio that is not uptodate: the fault paths zero, write() and populate overwrite.
    [InlineData("clear_page_ns", Path.GuestFault, 1)]
    [InlineData("clear_page_ns", Path.UserFault, 1)]
    [InlineData("clear_page_ns", Path.WriteMermap, 0)]
    // One 4 KiB copy per populated page: memcpy, copy_from_user, kvm_gmem_populate's copy.
    [InlineData("copy_page_ns", Path.Memcpy, 1)]
    [InlineData("copy_page_ns", Path.WriteDirectMap, 1)]
    [InlineData("copy_page_ns", Path.GmemPopulate, 1)]
    [InlineData("copy_page_ns", Path.GuestFault, 0)]
    // filemap_add_folio's parts: every path that inserts a new folio pays them.
    [InlineData("memcg_charge_ns", Path.WriteMermap, 1)]
    [InlineData("xarray_store_ns", Path.Memcpy, 1)]
    public void A_price_is_paid_once_by_each_path_that_does_its_work(string key, Path path, int times)
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64);
        CostField field = Assert.Single(CostProfile.Fields, f => f.Key == key);

        long moved = FirstTouch(field.With(costs, field.Get(costs) + Bump), path) - FirstTouch(costs, path);

        Assert.Equal(times * Bump, moved);
    }

    /// <summary>The fields of this item are in the cost-profile table, in range, readable and replaceable.</summary>
    [Theory]
    [InlineData("vm_exit_round_trip_ns")]
    [InlineData("memcg_charge_ns")]
    [InlineData("xarray_store_ns")]
    [InlineData("lru_add_ns")]
    [InlineData("perform_write_ns")]
    [InlineData("gup_fast_ns")]
    public void New_prices_are_cost_profile_fields(string key)
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64);
        CostField field = Assert.Single(CostProfile.Fields, f => f.Key == key);
        Assert.InRange(field.Get(costs), 1, field.MaxNs);
        Assert.Equal(7, field.Get(field.With(costs, 7)));
        Assert.DoesNotContain(CostProfile.Fields, f => f.Key == "page_cache_insert_ns");
    }

    private static long FirstTouch(CostProfile costs, Path path)
    {
        using SimKernel k = PageCacheLockTests.Create(costs);
        // kvm_gmem_populate serves only a TDX/SNP VM's file (no INIT_SHARED, no NO_DIRECT_MAP).
        KernelFile f = path == Path.GmemPopulate ? Snp(k) : KernelFixture.Gmem(k, 64);
        PathResult r = path switch
        {
            Path.GuestFault => k.GmemGetPfn(0, f, 0),
            Path.UserFault => k.GmemUserFault(0, f, 0),
            Path.Memcpy => k.Populate(0, f, 0, PopulationPath.Memcpy),
            Path.WriteDirectMap => k.Populate(0, f, 0, PopulationPath.WriteDirectMap),
            Path.WriteMermap => k.Populate(0, f, 0, PopulationPath.WriteMermap),
            _ => k.Populate(0, f, 0, PopulationPath.GmemPopulate),
        };
        Assert.True(r.Ok, $"{path}: error {r.Error}");
        return r.LatencyNs;
    }

    private static KernelFile Snp(SimKernel k)
    {
        Assert.Equal(0, k.GmemCreate(k.CreateProcess(), 64, GmemFlags.None, VmType.Snp, out KernelFile? file));
        return file!;
    }
}
