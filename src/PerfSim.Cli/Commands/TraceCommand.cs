using System.Globalization;
using PerfSim.Core.Events;
using PerfSim.Engine.Hosts;
using PerfSim.Engine.Reports;
using PerfSim.Engine.Simulation;
using PerfSim.Reporting.Input;
using PerfSim.Tracing;

namespace PerfSim.Cli.Commands;

/// <summary><c>perfsim trace [run options] --out FILE.nettrace</c>: run a scenario inside an
/// EventPipe session on this process, write the .nettrace, print what it holds next to the run's
/// own counters.</summary>
internal static class TraceCommand
{
    /// <summary>Each kind event and the run counters it must equal (their sum).</summary>
    public static IReadOnlyList<(SimEventKind Kind, string[] Counters)> Expected(ScenarioConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return
        [
            (SimEventKind.Fault, [config.Scenario == ScenarioNames.SecretmemTouch ? "user_faults" : "guest_faults"]),
            (SimEventKind.PopulatePage, ["populated_pages", "write_refused", "populate_refused"]),
            (SimEventKind.DirectMapZap, ["dm_zaps"]),
            (SimEventKind.DirectMapRestore, ["dm_restores"]),
            (SimEventKind.Split2M, ["direct_map_level2_splits"]),
            (SimEventKind.Split1G, ["direct_map_level3_splits"]),
            (SimEventKind.FlushKernelRange, ["flush_kernel_range"]),
            (SimEventKind.FlushAll, ["flush_all"]),
            (SimEventKind.FlushLocal, ["local_flushes"]),
            (SimEventKind.MermapGet, ["mermap_gets"]),
            (SimEventKind.Violation, ["oops", "latent_crashes", "stale_translations", "mermap_stale_frees"]),
            (SimEventKind.PageblockFlip, ["pageblock_flips", "pageblock_remaps"]),
        ];
    }

    public static int Run(OptionSet options, TextWriter stdout)
    {
        string path = options.String("out") ?? throw new InputException("perfsim trace: --out FILE.nettrace is required");
        Reporting.Output.OutputTarget.CheckFile(path, "--out");
        (ScenarioConfig config, HostSpec? host, _) = RunCommand.Resolve(options);

        RunResult? result = null;
        (EventPipeRecording recording, NettraceSummary summary) = TraceFiles.Atomically(path, "--out", partial =>
        {
            EventPipeRecording rec = EventPipeRecorder.RecordAsync(partial, () => result = SimulationRun.Execute(config, host)).GetAwaiter().GetResult();
            return (rec with { Path = path }, NettraceSummary.Read(partial));
        });

        Print(stdout, recording, summary, result!);
        return result!.Violations.Count > 0 ? ExitCodes.Violation : ExitCodes.Ok;
    }

    private static void Print(TextWriter o, EventPipeRecording rec, NettraceSummary s, RunResult run)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(inv, $"{rec.Path}: {rec.Bytes} bytes, {s.TotalEvents} events, recorded in {rec.Duration.TotalSeconds:F2} s"));
        o.WriteLine(string.Create(inv, $"{ReportMapper.Describe(run.Config)}: {run.ElapsedSimNs} simulated ns"));
        o.WriteLine();
        o.WriteLine("PerfSim events in the file       count   run counters");
        var shown = new HashSet<string>(StringComparer.Ordinal);
        bool allMatch = true;
        foreach ((SimEventKind kind, string[] counters) in Expected(run.Config))
        {
            string name = kind.ToString();
            shown.Add(name);
            long events = s.Count(name);
            long expected = counters.Sum(run.Counter);
            allMatch &= events == expected;
            string mark = events == expected ? "=" : "≠";
            o.WriteLine(string.Create(inv, $"  {name,-28} {events,9} {mark} {expected} ({string.Join(" + ", counters)})"));
        }

        foreach ((string name, long count) in s.PerfSimEvents.OrderBy(e => e.Key, StringComparer.Ordinal).Where(e => !shown.Contains(e.Key)))
        {
            o.WriteLine(string.Create(inv, $"  {name,-28} {count,9}"));
        }

        o.WriteLine(allMatch
            ? "every event count equals the run's counter"
            : "some counts differ: EventPipe drops events when its buffer fills (a very large run)");
        o.WriteLine();
        o.WriteLine("EventCounters (last value): " + Values(s.EventCounters));
        o.WriteLine("Meter PerfSim (last value): " + Values(s.MeterInstruments));
        o.WriteLine(string.Create(inv, $"run: faults {run.Counter("faults")}, ipis {run.Counter("ipis")}, splits {run.Counter("direct_map_level2_splits") + run.Counter("direct_map_level3_splits")}, DirectMap4k {run.DirectMapAfter.DirectMap4k} kB"));
    }

    private static string Values(IReadOnlyDictionary<string, double> values) =>
        values.Count == 0
            ? "none (the run ended before the first 1 s publication)"
            : string.Join(", ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Key} {v.Value}")));
}
