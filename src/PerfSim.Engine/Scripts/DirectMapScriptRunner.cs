using PerfSim.Core.Invariants;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Hosts;

namespace PerfSim.Engine.Scripts;

/// <summary>An operation that the kernel refused (e.g. -ENOMEM from a split).</summary>
public readonly record struct ScriptError(int Line, ScriptOp Op, long Pfn, int Errno);

/// <summary>What a script did to the direct map, in the kernel's own terms.</summary>
public sealed record DirectMapScriptResult(
    HostSpec Host,
    long MaxPfn,
    DirectMapCounts Before,
    DirectMapCounts After,
    long Level2Splits,
    long Level3Splits,
    long PageTablePages,
    long GlobalFlushes,
    long RangeFlushes,
    long ContBreaks,
    long HolePages,
    long PrimitiveCalls,
    IReadOnlyList<ScriptError> Errors,
    long Oops,
    long LatentCrashes,
    IReadOnlyList<Violation> Violations);

/// <summary>Runs a parsed script on a <see cref="DirectMapHost"/>, on simulated CPU 0.</summary>
public static class DirectMapScriptRunner
{
    public static DirectMapScriptResult Run(DirectMapHost host, IEnumerable<ScriptLine> script)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(script);
        const int Cpu = 0;
        DirectMap dm = host.DirectMap;
        DirectMapCounts before = dm.Counts;
        var errors = new List<ScriptError>();
        long holes = 0;
        long calls = 0;

        foreach (ScriptLine line in script)
        {
            switch (line.Op)
            {
                case ScriptOp.FailAlloc:
                    host.PageTables.FailNext((int)line.Pages);
                    break;
                case ScriptOp.Valid:
                    Record(line, line.Pfn, dm.SetValidNoFlush(Cpu, line.Pfn, line.Pages, line.Valid));
                    break;
                case ScriptOp.Invalid or ScriptOp.Default:
                    for (long pfn = line.Pfn; pfn < line.Pfn + line.Pages; pfn++)
                    {
                        Record(line, pfn, line.Op == ScriptOp.Invalid ? dm.SetInvalidNoFlush(Cpu, pfn) : dm.SetDefaultNoFlush(Cpu, pfn));
                    }

                    break;
                case ScriptOp.Access:
                    for (long pfn = line.Pfn; pfn < line.Pfn + line.Pages; pfn++)
                    {
                        host.Checker.CheckAccess(Cpu, pfn, KernelPath.ScriptAccess);
                    }

                    break;
                case ScriptOp.Free:
                    for (long pfn = line.Pfn; pfn < line.Pfn + line.Pages; pfn++)
                    {
                        host.Checker.CheckFree(Cpu, pfn, order: 0, toUnmappedList: false, KernelPath.ScriptFree);
                    }

                    break;
            }
        }

        return new DirectMapScriptResult(
            host.Spec,
            dm.EndPfn,
            before,
            dm.Counts,
            dm.Level2Splits,
            dm.Level3Splits,
            dm.PageTablePages,
            host.Flush.GlobalFlushes,
            host.Flush.RangeFlushes,
            dm.ContBreaks,
            holes,
            calls,
            errors,
            host.Checker.Count(ViolationKind.Oops),
            host.Checker.Count(ViolationKind.LatentCrash),
            host.Checker.Recorded);

        void Record(ScriptLine line, long pfn, CpaResult result)
        {
            calls++;
            holes += result.HolePages;
            if (result.Failed)
            {
                errors.Add(new ScriptError(line.Line, line.Op, pfn, result.Error));
            }
        }
    }
}
