using PerfSim.Core.Events;
using PerfSim.Tracing.Files;

namespace PerfSim.Tracing.Tests;

public sealed class TextTraceTests
{
    [Fact]
    public void Every_kind_has_a_distinct_name_that_round_trips()
    {
        SimEventKind[] kinds = Enum.GetValues<SimEventKind>();
        Assert.Equal(kinds.Length, TextTrace.KindNames.Distinct().Count());
        foreach (SimEventKind kind in kinds)
        {
            var e = new SimEvent(1, 2, 3, 4, kind);
            Assert.True(TextTrace.TryParseLine(TextTrace.Format(in e), 1, out SimEvent back));
            Assert.Equal(e, back);
        }
    }

    [Fact]
    public void Random_events_round_trip_through_text()
    {
        SimEvent[] events = BinaryTraceTests.RandomEvents(11, 5000, 3);
        var text = new StringWriter();
        TextTrace.Write(text, events);
        Assert.Equal(events, TextTrace.Read(new StringReader(text.ToString())));
    }

    [Fact]
    public void Comments_blank_lines_hex_and_optional_extra_are_accepted()
    {
        const string Text = """
            # converted from ftrace
            1000 0 fault 0x1a2b 7   # gfn 7

            \t2000\t1\tZAP\t6699\t512
            3000 2 flush_all 0
            """;
        Assert.Equal(
            [
                new SimEvent(1000, 0x1a2b, 7, 0, SimEventKind.Fault),
                new SimEvent(2000, 6699, 512, 1, SimEventKind.DirectMapZap),
                new SimEvent(3000, 0, 0, 2, SimEventKind.FlushAll),
            ],
            TextTrace.Read(new StringReader(Text.Replace("\\t", "\t", StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData("1000 0 fault", 3, "expected TIME_NS CPU KIND PFN [EXTRA], found 3 fields")]
    [InlineData("1000 0 fault 1 2 3", 3, "found more than 5 fields")]
    [InlineData("1000 0 zapp 1", 3, "unknown kind 'zapp' (expected one of fault, populate, zap,")]
    [InlineData("10x0 0 fault 1", 3, "TIME_NS '10x0' is not a number")]
    [InlineData("1000 -1 fault 1", 3, "CPU -1 out of range")]
    [InlineData("1000 0 fault 0xZZ", 3, "PFN '0xZZ' is not a number")]
    [InlineData("1000 0 fault 1 many", 3, "EXTRA 'many' is not a number")]
    public void Bad_lines_are_reported_with_their_line_number(string badLine, int line, string problem)
    {
        string text = "# header\n\n" + badLine + "\n1 0 fault 1\n";
        TraceFormatException ex = Assert.Throws<TraceFormatException>(() => TextTrace.Read(new StringReader(text)).ToList());
        Assert.Equal(line, ex.Line);
        Assert.StartsWith($"line {line}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
