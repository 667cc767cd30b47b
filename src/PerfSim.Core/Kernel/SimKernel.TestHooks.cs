namespace PerfSim.Core.Kernel;

/// <summary>Seams for tests that must force a race deterministically.</summary>
public sealed partial class SimKernel
{
    /// <summary>Runs just before <c>filemap_add_folio</c>, e.g. to let a rival insert win and force
    /// the -EEXIST path.</summary>
    internal Action<KernelFile, long>? TestHookBeforeInsert { get; set; }
}
