using PerfSim.Core.Events;

namespace PerfSim.Tracing.Tests;

/// <summary>Real EventPipe sessions on the test process, written to real .nettrace files.</summary>
[Collection(EventSourceCollection.Name)]
public sealed class EventPipeRecorderTests : IDisposable
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("perfsim-nettrace-").FullName;

    public void Dispose()
    {
        SimulationMetrics.TestHookPolled = null;
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Kind k is emitted 10·k + 3 times, so a miscount of any kind shows.</summary>
    private static int ExpectedCount(SimEventKind kind) => (10 * (int)kind) + 3;

    private static long EmitSyntheticRun()
    {
        PerfSimEventSource log = PerfSimEventSource.Log;
        long emitted = 0;
        foreach (SimEventKind kind in Enum.GetValues<SimEventKind>())
        {
            for (int i = 0; i < ExpectedCount(kind); i++)
            {
                log.Emit(new SimEvent(emitted * 100, 0x1000 + i, i, i % 4, kind));
                emitted++;
            }
        }

        return emitted;
    }

    /// <summary>
    /// Counts counter polls once armed. Counters publish on their own timers; a poll callback that
    /// runs for the third time proves the earlier passes were written (the first may only set a rate
    /// baseline), so tests wait for polls, never for a clock.
    /// </summary>
    private sealed class PollWatch : IDisposable
    {
        private readonly CountdownEvent _counter = new(3);
        private readonly CountdownEvent _meter = new(3);
        private bool _armed;

        public PollWatch() => SimulationMetrics.TestHookPolled = name =>
        {
            if (!Volatile.Read(ref _armed))
            {
                return;
            }

            if (name == "counter:" + SimulationMetrics.FaultsPerSecondName && !_counter.IsSet)
            {
                _counter.Signal();
            }
            else if (name == "meter:" + SimulationMetrics.FaultsInstrument && !_meter.IsSet)
            {
                _meter.Signal();
            }
        };

        /// <summary>Blocks until both the EventCounters and the Meter were polled three times from now.</summary>
        public void WaitForThreePolls()
        {
            _counter.Reset();
            _meter.Reset();
            Volatile.Write(ref _armed, true);
            Assert.True(_counter.Wait(s_hangGuard), "EventCounters were never polled (hang guard)");
            Assert.True(_meter.Wait(s_hangGuard), "Meter instruments were never observed (hang guard)");
            Volatile.Write(ref _armed, false);
        }

        public void Dispose()
        {
            SimulationMetrics.TestHookPolled = null;
            _counter.Dispose();
            _meter.Dispose();
        }
    }

    private static void AddExpectedTotals(SimulationMetrics metrics)
    {
        metrics.AddFaults(ExpectedCount(SimEventKind.Fault));
        metrics.AddIpis(7);
        metrics.AddSplits(ExpectedCount(SimEventKind.Split2M) + ExpectedCount(SimEventKind.Split1G));
        metrics.SetDirectMap4kKb(2048);
    }

    private static void AssertExpectedCounters(NettraceSummary summary)
    {
        string[] counters = [SimulationMetrics.FaultsPerSecondName, SimulationMetrics.IpisPerSecondName, SimulationMetrics.SplitsName, SimulationMetrics.DirectMap4kKbName];
        string[] instruments = [SimulationMetrics.FaultsInstrument, SimulationMetrics.IpisInstrument, SimulationMetrics.SplitsInstrument, SimulationMetrics.DirectMap4kInstrument];
        Assert.Equal(counters.Order(StringComparer.Ordinal), summary.EventCounters.Keys);
        Assert.Equal(instruments.Order(StringComparer.Ordinal), summary.MeterInstruments.Keys);
        Assert.Equal(2048, summary.EventCounters[SimulationMetrics.DirectMap4kKbName]);
        Assert.Equal(ExpectedCount(SimEventKind.Split2M) + ExpectedCount(SimEventKind.Split1G), summary.EventCounters[SimulationMetrics.SplitsName]);
        Assert.Equal(2048, summary.MeterInstruments[SimulationMetrics.DirectMap4kInstrument]);
        Assert.Equal(7, summary.MeterInstruments[SimulationMetrics.IpisInstrument]);
        Assert.Equal(ExpectedCount(SimEventKind.Fault), summary.MeterInstruments[SimulationMetrics.FaultsInstrument]);
    }

    [Fact]
    public async Task A_recorded_run_reads_back_with_exactly_the_emitted_counts_and_the_counters()
    {
        string path = Path.Combine(_dir, "run.nettrace");
        var metrics = new SimulationMetrics();
        using var polls = new PollWatch();

        EventPipeRecording recording = await EventPipeRecorder.RecordAsync(path, () =>
        {
            using IDisposable published = metrics.Publish();
            PerfSimEventSource.Log.RunStart("synthetic", 42);
            long emitted = EmitSyntheticRun();
            AddExpectedTotals(metrics);
            polls.WaitForThreePolls();
            PerfSimEventSource.Log.RunStop(emitted, emitted * 100);
        });

        Assert.True(recording.Bytes > 0);
        Assert.Equal(new FileInfo(path).Length, recording.Bytes);

        NettraceSummary summary = NettraceSummary.Read(path);
        foreach (SimEventKind kind in Enum.GetValues<SimEventKind>())
        {
            Assert.True(ExpectedCount(kind) == summary.Count(kind.ToString()),
                $"{kind}: emitted {ExpectedCount(kind)}, read {summary.Count(kind.ToString())}; seen: {string.Join(", ", summary.PerfSimEvents)}");
        }

        Assert.Equal(1, summary.Count(NettraceSummary.RunStartEventName));
        Assert.Equal(1, summary.Count(NettraceSummary.RunStopEventName));
        Assert.Equal(Enum.GetValues<SimEventKind>().Length + 2, summary.PerfSimEvents.Count);
        AssertExpectedCounters(summary);
    }

    /// <summary>
    /// The race behind the old flaky test (issue 18, item 11): the run ends (its publication is
    /// disposed) while the session still listens, and counter polls land in that gap. Waiting for
    /// three polls after the dispose makes the gap certain; the last values must still be the run's.
    /// </summary>
    [Fact]
    public async Task Counters_polled_after_the_run_ended_keep_its_final_values()
    {
        string path = Path.Combine(_dir, "ended.nettrace");
        var metrics = new SimulationMetrics();
        using var polls = new PollWatch();

        await EventPipeRecorder.RecordAsync(path, () =>
        {
            using (metrics.Publish())
            {
                AddExpectedTotals(metrics);
                polls.WaitForThreePolls();
            }

            // The engine may keep its instance; what it adds after the run must not show.
            metrics.AddIpis(1000);
            polls.WaitForThreePolls();
        });

        AssertExpectedCounters(NettraceSummary.Read(path));
    }

    [Fact]
    public void A_new_publication_replaces_the_frozen_values_of_the_last()
    {
        var first = new SimulationMetrics();
        using (first.Publish())
        {
            first.AddFaults(5);
        }

        Assert.Equal(5, SimulationMetrics.Poll("test").Faults);
        var second = new SimulationMetrics();
        using (second.Publish())
        {
            second.AddFaults(2);
            Assert.Equal(2, SimulationMetrics.Poll("test").Faults);
        }

        Assert.Equal(2, SimulationMetrics.Poll("test").Faults);
    }

    [Fact]
    public async Task Emit_allocates_nothing_while_a_session_records()
    {
        string path = Path.Combine(_dir, "alloc.nettrace");
        long allocated = -1;
        await EventPipeRecorder.RecordAsync(path, () =>
        {
            PerfSimEventSource log = PerfSimEventSource.Log;
            Assert.True(log.IsEnabled());
            var e = new SimEvent(1, 2, 3, 1, SimEventKind.Fault);
            for (int i = 0; i < 1000; i++)
            {
                log.Emit(in e);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100_000; i++)
            {
                log.Emit(in e);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, new EventPipeRecorderOptions { IncludeMeter = false });

        Assert.Equal(0, allocated);
        Assert.Equal(101_000, NettraceSummary.Read(path).Count(nameof(SimEventKind.Fault)));
    }

    [Fact]
    public async Task A_failing_simulation_still_stops_the_session_and_leaves_a_readable_file()
    {
        string path = Path.Combine(_dir, "fail.nettrace");
        await Assert.ThrowsAsync<InvalidOperationException>(() => EventPipeRecorder.RecordAsync(path, () =>
        {
            PerfSimEventSource.Log.Emit(new SimEvent(1, 2, 3, 0, SimEventKind.Violation));
            throw new InvalidOperationException("simulated crash");
        }));

        Assert.False(PerfSimEventSource.Log.IsEnabled(), "the session was left running");
        Assert.Equal(1, NettraceSummary.Read(path).Count(nameof(SimEventKind.Violation)));
    }

    [Fact]
    public void The_provider_string_is_dotnet_trace_syntax_with_an_explicit_keyword_mask()
    {
        string providers = EventPipeRecorder.ProviderString(new EventPipeRecorderOptions(), "s1");
        Assert.Equal(
            "PerfSim:0xFFFFFFFFFFFFFFFF:5:EventCounterIntervalSec=1,"
            + "System.Diagnostics.Metrics:0x0000000000000003:4:SessionId=s1;Metrics=PerfSim;RefreshInterval=1;MaxTimeSeries=1000;MaxHistograms=10",
            providers);
    }
}
