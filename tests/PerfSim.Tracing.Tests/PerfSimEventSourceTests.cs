using System.Diagnostics.Tracing;
using System.Reflection;
using PerfSim.Core.Events;

namespace PerfSim.Tracing.Tests;

[Collection(EventSourceCollection.Name)]
public sealed class PerfSimEventSourceTests
{
    private static readonly SimEventKind[] s_kinds = Enum.GetValues<SimEventKind>();

    [Fact]
    public void Every_kind_has_an_event_whose_id_is_the_kind_value_and_whose_keyword_matches_Emit()
    {
        Dictionary<string, (MethodInfo Method, EventAttribute Attribute)> events = typeof(PerfSimEventSource)
            .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<EventAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToDictionary(x => x.Method.Name, x => (x.Method, x.Attribute!));

        foreach (SimEventKind kind in s_kinds)
        {
            Assert.True(events.TryGetValue(kind.ToString(), out var ev), $"no event method for {kind}");
            Assert.Equal((int)kind, ev.Attribute.EventId);
            (EventLevel level, EventKeywords keywords) = PerfSimEventSource.Classify(kind);
            Assert.Equal(level, ev.Attribute.Level);
            Assert.Equal(keywords, ev.Attribute.Keywords);
            Assert.NotEqual(EventKeywords.None, keywords);
        }

        Assert.Equal(s_kinds.Length + 2, events.Count);
    }

    [Fact]
    public void The_manifest_is_valid_under_strict_checks()
    {
        string? manifest = EventSource.GenerateManifest(typeof(PerfSimEventSource), "PerfSim.Tracing.dll", EventManifestOptions.Strict);
        Assert.NotNull(manifest);
        Assert.Contains("name=\"PerfSim\"", manifest, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0L)]
    [InlineData(3, 512L)]
    [InlineData(65535, (1L << 48) - 1)]
    public void Cpu_and_extra_pack_into_one_field_and_back(int cpu, long extra)
    {
        long packed = PerfSimEventSource.PackCpuExtra(cpu, extra);
        Assert.Equal((cpu, extra), PerfSimEventSource.UnpackCpuExtra(packed));
    }

    [Fact]
    public void Emit_with_no_session_allocates_nothing_for_a_million_events()
    {
        PerfSimEventSource log = PerfSimEventSource.Log;
        Assert.False(log.IsEnabled(), "a session or listener is enabled, so this test would measure nothing");
        SimEvent[] events = s_kinds.Select((k, i) => new SimEvent(i, 1000 + i, i, i % 4, k)).ToArray();
        for (int i = 0; i < 1000; i++)
        {
            log.Emit(in events[i % events.Length]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000_000; i++)
        {
            log.Emit(in events[i % events.Length]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
