using System.Globalization;

namespace PerfSim.Cli.Output;

/// <summary>
/// Progress of one run on standard error. The engine reports each phase's share done (0..1),
/// starting again at each phase; this names the phase (<see cref="Engine.Simulation.ScenarioNames.Phases"/>),
/// turns it into the run's share so the figure only moves forward, and adds the elapsed time and
/// an ETA. On a terminal it redraws one line (clearing what the last draw left); otherwise, as in
/// a CI log, it writes a plain line now and then.
/// </summary>
/// <remarks>No Spectre.Console: one status line needs no render thread, and a live display would
/// own the console while the "recorded ..." and "wrote ..." lines are printed.</remarks>
internal sealed class ProgressLine
{
    /// <summary>How often a terminal line is redrawn.</summary>
    private static readonly TimeSpan s_redraw = TimeSpan.FromMilliseconds(100);

    /// <summary>How often a plain line is written when standard error is not a terminal.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(30);

    private readonly TextWriter _stderr;
    private readonly bool _terminal;
    private readonly string _label;
    private readonly IReadOnlyList<string> _phases;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _start;
    private DateTimeOffset _lastWrite;
    private int _phase;
    private double _lastFraction;
    private double _done;

    public ProgressLine(TextWriter stderr, bool terminal, string label, IReadOnlyList<string> phases, TimeProvider? time = null)
    {
        _stderr = stderr;
        _terminal = terminal;
        _label = label;
        _phases = phases.Count > 0 ? phases : ["run"];
        _time = time ?? TimeProvider.System;
        _start = _lastWrite = _time.GetUtcNow();
    }

    /// <summary>The run's share done, 0..1; never smaller than before.</summary>
    public double Done => _done;

    /// <summary>The engine's report: the current phase's share done.</summary>
    public void Report(double phaseFraction)
    {
        if (phaseFraction + 1e-9 < _lastFraction && _phase < _phases.Count - 1)
        {
            _phase++;
        }

        _lastFraction = phaseFraction;
        _done = Math.Max(_done, (_phase + Math.Clamp(phaseFraction, 0, 1)) / _phases.Count);
        DateTimeOffset now = _time.GetUtcNow();
        if (now - _lastWrite >= (_terminal ? s_redraw : PlainInterval))
        {
            Write(now);
        }
    }

    /// <summary>The run finished: a terminal gets its last line at 100% and a newline.</summary>
    public void Finish()
    {
        if (_terminal)
        {
            _phase = _phases.Count - 1;
            _done = 1;
            Write(_time.GetUtcNow());
            _stderr.WriteLine();
        }
    }

    private void Write(DateTimeOffset now)
    {
        _lastWrite = now;
        string text = Text(now - _start);
        if (_terminal)
        {
            // \r back to the start, then erase to the end of the line: no stray characters.
            _stderr.Write("\r" + text + "\u001b[K");
        }
        else
        {
            _stderr.WriteLine(text);
        }
    }

    public string Text(TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        string phase = _phases.Count == 1 ? _phases[0] : string.Create(inv, $"{_phases[_phase]}, phase {_phase + 1}/{_phases.Count}");
        string eta = _done >= 1 ? "done"
            : _done > 0.01 ? "ETA " + Seconds(elapsed * ((1 - _done) / _done))
            : "ETA unknown";
        return string.Create(inv, $"{_label}: {_done * 100:F0}% ({phase}), {Seconds(elapsed)} elapsed, {eta}");
    }

    private static string Seconds(TimeSpan t) =>
        t.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:F0} s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes} min {t.Seconds:D2} s");
}
