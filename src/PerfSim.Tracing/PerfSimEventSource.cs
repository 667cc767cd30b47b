using System.Diagnostics.Tracing;
using PerfSim.Core.Events;

namespace PerfSim.Tracing;

/// <summary>
/// The "PerfSim" EventSource: one event per <see cref="SimEventKind"/> (event id = the kind's
/// numeric value), run start/stop events, and EventCounters read from the attached
/// <see cref="SimulationMetrics"/>.
/// </summary>
/// <remarks>
/// <para>Every kind event has the payload <c>(long timeNs, long pfn, long cpuExtra)</c>, written
/// with the typed <c>WriteEvent(int, long, long, long)</c> overload: it is the widest overload that
/// neither boxes nor needs unsafe code (<c>WriteEvent(int, params EventSourcePrimitive[])</c> was
/// measured at 152–208 bytes per event). The CPU therefore shares a field with Extra:
/// <c>cpuExtra = cpu &lt;&lt; 48 | (extra &amp; 0xFFFF_FFFF_FFFF)</c>; see <see cref="PackCpuExtra"/>.</para>
/// <para>Enable with an explicit keyword mask (e.g. <c>PerfSim:0xFFFFFFFFFFFFFFFF:5</c>): a mask
/// of 0 only enables the events that declare no keyword.</para>
/// </remarks>
[EventSource(Name = ProviderName)]
public sealed class PerfSimEventSource : EventSource, ISimEventSink
{
    /// <summary>The provider name used in dotnet-trace provider strings.</summary>
    public const string ProviderName = "PerfSim";

    /// <summary>Event id of <see cref="RunStart"/>; kind events use ids 1..255.</summary>
    public const int RunStartEventId = 256;

    /// <summary>Event id of <see cref="RunStop"/>.</summary>
    public const int RunStopEventId = 257;

    /// <summary>Bits of <c>cpuExtra</c> that hold Extra; the CPU sits above them.</summary>
    public const int ExtraBits = 48;

    private const long ExtraMask = (1L << ExtraBits) - 1;

    /// <summary>The process-wide instance (EventSources are singletons per name).</summary>
    public static readonly PerfSimEventSource Log = new();

    private IncrementingPollingCounter? _faultsPerSecond;
    private IncrementingPollingCounter? _ipisPerSecond;
    private PollingCounter? _splits;
    private PollingCounter? _directMap4kKb;

    private PerfSimEventSource()
    {
    }

    /// <summary>Stable keyword bits. Never renumber.</summary>
    public static class Keywords
    {
        /// <summary>Faults.</summary>
        public const EventKeywords Faults = (EventKeywords)0x1;

        /// <summary>Direct-map zaps, restores, splits, pageblock flips, hole punches.</summary>
        public const EventKeywords DirectMap = (EventKeywords)0x2;

        /// <summary>TLB flushes and IPIs.</summary>
        public const EventKeywords Flush = (EventKeywords)0x4;

        /// <summary>Mermap slot get/put.</summary>
        public const EventKeywords Mermap = (EventKeywords)0x8;

        /// <summary>Invariant violations.</summary>
        public const EventKeywords Violations = (EventKeywords)0x10;

        /// <summary>VMM population.</summary>
        public const EventKeywords Population = (EventKeywords)0x20;

        /// <summary>Engine phase boundaries.</summary>
        public const EventKeywords Phases = (EventKeywords)0x40;
    }

    /// <summary>Packs a CPU and Extra into the <c>cpuExtra</c> payload field.</summary>
    /// <remarks>Extra keeps its low 48 bits (page counts, gfns and enum values fit); the CPU keeps 16.</remarks>
    public static long PackCpuExtra(int cpu, long extra) => ((long)(ushort)cpu << ExtraBits) | (extra & ExtraMask);

    /// <summary>Inverse of <see cref="PackCpuExtra"/>.</summary>
    public static (int Cpu, long Extra) UnpackCpuExtra(long cpuExtra) => ((int)((ulong)cpuExtra >> ExtraBits), cpuExtra & ExtraMask);

    /// <summary>The level and keyword an event of <paramref name="kind"/> is written with.</summary>
    public static (EventLevel Level, EventKeywords Keywords) Classify(SimEventKind kind) => kind switch
    {
        // Per-page events are the volume: Verbose, so an Informational session sees structure only.
        SimEventKind.Fault => (EventLevel.Verbose, Keywords.Faults),
        SimEventKind.PopulatePage => (EventLevel.Verbose, Keywords.Population),
        SimEventKind.MermapGet or SimEventKind.MermapPut => (EventLevel.Verbose, Keywords.Mermap),
        SimEventKind.DirectMapZap or SimEventKind.DirectMapRestore or SimEventKind.Split2M or SimEventKind.Split1G
            or SimEventKind.PunchHole or SimEventKind.PageblockFlip => (EventLevel.Informational, Keywords.DirectMap),
        SimEventKind.FlushKernelRange or SimEventKind.FlushAll or SimEventKind.FlushLocal => (EventLevel.Informational, Keywords.Flush),
        SimEventKind.Violation => (EventLevel.Warning, Keywords.Violations),
        SimEventKind.Phase => (EventLevel.Informational, Keywords.Phases),
        _ => (EventLevel.LogAlways, EventKeywords.None),
    };

    /// <summary>Writes <paramref name="e"/> as the event of its kind; returns at once when no session listens.</summary>
    [NonEvent]
    public void Emit(in SimEvent e)
    {
        // The cheap global check first: with no session this is one field read.
        if (!IsEnabled())
        {
            return;
        }

        (EventLevel level, EventKeywords keywords) = Classify(e.Kind);
        if (keywords != EventKeywords.None && IsEnabled(level, keywords))
        {
            // Event id = kind: the methods below exist for the manifest; the write is the same.
            WriteEvent((int)e.Kind, e.TimeNs, e.Pfn, PackCpuExtra(e.Cpu, e.Extra));
        }
    }

    /// <summary>A run begins. <paramref name="scenario"/> names it; <paramref name="seed"/> reproduces it.</summary>
    [Event(RunStartEventId, Level = EventLevel.Informational)]
    public void RunStart(string scenario, long seed) => WriteEvent(RunStartEventId, scenario, seed);

    /// <summary>A run ends after <paramref name="simulatedNs"/> of simulated time and <paramref name="events"/> events.</summary>
    [Event(RunStopEventId, Level = EventLevel.Informational)]
    public void RunStop(long events, long simulatedNs) => WriteEvent(RunStopEventId, events, simulatedNs);

    /// <summary><see cref="SimEventKind.Fault"/>.</summary>
    [Event(1, Level = EventLevel.Verbose, Keywords = Keywords.Faults)]
    public void Fault(long timeNs, long pfn, long cpuExtra) => WriteEvent(1, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.PopulatePage"/>.</summary>
    [Event(2, Level = EventLevel.Verbose, Keywords = Keywords.Population)]
    public void PopulatePage(long timeNs, long pfn, long cpuExtra) => WriteEvent(2, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.DirectMapZap"/>.</summary>
    [Event(3, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void DirectMapZap(long timeNs, long pfn, long cpuExtra) => WriteEvent(3, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.DirectMapRestore"/>.</summary>
    [Event(4, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void DirectMapRestore(long timeNs, long pfn, long cpuExtra) => WriteEvent(4, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.Split2M"/>.</summary>
    [Event(5, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void Split2M(long timeNs, long pfn, long cpuExtra) => WriteEvent(5, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.Split1G"/>.</summary>
    [Event(6, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void Split1G(long timeNs, long pfn, long cpuExtra) => WriteEvent(6, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.FlushKernelRange"/>.</summary>
    [Event(7, Level = EventLevel.Informational, Keywords = Keywords.Flush)]
    public void FlushKernelRange(long timeNs, long pfn, long cpuExtra) => WriteEvent(7, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.FlushAll"/>.</summary>
    [Event(8, Level = EventLevel.Informational, Keywords = Keywords.Flush)]
    public void FlushAll(long timeNs, long pfn, long cpuExtra) => WriteEvent(8, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.FlushLocal"/>.</summary>
    [Event(9, Level = EventLevel.Informational, Keywords = Keywords.Flush)]
    public void FlushLocal(long timeNs, long pfn, long cpuExtra) => WriteEvent(9, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.MermapGet"/>.</summary>
    [Event(10, Level = EventLevel.Verbose, Keywords = Keywords.Mermap)]
    public void MermapGet(long timeNs, long pfn, long cpuExtra) => WriteEvent(10, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.MermapPut"/>.</summary>
    [Event(11, Level = EventLevel.Verbose, Keywords = Keywords.Mermap)]
    public void MermapPut(long timeNs, long pfn, long cpuExtra) => WriteEvent(11, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.Violation"/>.</summary>
    [Event(12, Level = EventLevel.Warning, Keywords = Keywords.Violations)]
    public void Violation(long timeNs, long pfn, long cpuExtra) => WriteEvent(12, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.PunchHole"/>.</summary>
    [Event(13, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void PunchHole(long timeNs, long pfn, long cpuExtra) => WriteEvent(13, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.PageblockFlip"/>.</summary>
    [Event(14, Level = EventLevel.Informational, Keywords = Keywords.DirectMap)]
    public void PageblockFlip(long timeNs, long pfn, long cpuExtra) => WriteEvent(14, timeNs, pfn, cpuExtra);

    /// <summary><see cref="SimEventKind.Phase"/>.</summary>
    [Event(15, Level = EventLevel.Informational, Keywords = Keywords.Phases)]
    public void Phase(long timeNs, long pfn, long cpuExtra) => WriteEvent(15, timeNs, pfn, cpuExtra);

    /// <inheritdoc/>
    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        if (command.Command != EventCommand.Enable)
        {
            return;
        }

        // Created lazily and kept: a counter registers itself with this source for its lifetime.
        _faultsPerSecond ??= new IncrementingPollingCounter(SimulationMetrics.FaultsPerSecondName, this, () => SimulationMetrics.Poll("counter:" + SimulationMetrics.FaultsPerSecondName).Faults)
        {
            DisplayName = "Faults",
            DisplayRateTimeScale = TimeSpan.FromSeconds(1),
        };
        _ipisPerSecond ??= new IncrementingPollingCounter(SimulationMetrics.IpisPerSecondName, this, () => SimulationMetrics.Poll("counter:" + SimulationMetrics.IpisPerSecondName).Ipis)
        {
            DisplayName = "TLB shootdown IPIs",
            DisplayRateTimeScale = TimeSpan.FromSeconds(1),
        };
        _splits ??= new PollingCounter(SimulationMetrics.SplitsName, this, () => SimulationMetrics.Poll("counter:" + SimulationMetrics.SplitsName).Splits)
        {
            DisplayName = "Direct-map splits",
        };
        _directMap4kKb ??= new PollingCounter(SimulationMetrics.DirectMap4kKbName, this, () => SimulationMetrics.Poll("counter:" + SimulationMetrics.DirectMap4kKbName).DirectMap4kKb)
        {
            DisplayName = "DirectMap4k",
            DisplayUnits = "kB",
        };
    }
}
