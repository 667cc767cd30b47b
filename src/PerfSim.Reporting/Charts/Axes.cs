using PerfSim.Reporting.Rendering;

namespace PerfSim.Reporting.Charts;

/// <summary>The plotting rectangle inside a chart, in pixels.</summary>
internal readonly record struct PlotArea(double Left, double Top, double Width, double Height)
{
    public double Right => Left + Width;

    public double Bottom => Top + Height;
}

/// <summary>Maps data values to pixels along one direction and proposes tick values.</summary>
internal abstract class Axis(double pixelFrom, double pixelTo)
{
    protected double PixelFrom { get; } = pixelFrom;

    protected double PixelTo { get; } = pixelTo;

    public abstract IReadOnlyList<double> Ticks { get; }

    public abstract double Map(double value);

    public virtual string Label(double value) => Invariant.Compact(value);
}

/// <summary>A linear axis from <c>min</c> up to a "nice" maximum (1, 2 or 5 × 10^k steps).</summary>
internal sealed class LinearAxis : Axis
{
    private readonly double _min;
    private readonly double _max;
    private readonly double _step;

    public LinearAxis(double min, double dataMax, double pixelFrom, double pixelTo)
        : base(pixelFrom, pixelTo)
    {
        _min = min;
        // An all-zero series still needs a non-empty range to map onto.
        double span = dataMax > min ? dataMax - min : 1;
        _step = NiceStep(span / 5);
        _max = min + (Math.Ceiling(span / _step) * _step);
    }

    public override IReadOnlyList<double> Ticks =>
        Enumerable.Range(0, (int)Math.Round((_max - _min) / _step) + 1).Select(i => _min + (i * _step)).ToArray();

    public override double Map(double value) => PixelFrom + ((value - _min) / (_max - _min) * (PixelTo - PixelFrom));

    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / power;
        return power * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
    }
}

/// <summary>A base-10 logarithmic axis spanning whole decades around the data.</summary>
internal sealed class LogAxis : Axis
{
    private readonly double _minExponent;
    private readonly double _maxExponent;

    public LogAxis(double dataMin, double dataMax, double pixelFrom, double pixelTo)
        : base(pixelFrom, pixelTo)
    {
        if (!(dataMin > 0) || !(dataMax >= dataMin))
        {
            throw new ArgumentOutOfRangeException(nameof(dataMin), "A log axis needs positive, ordered bounds.");
        }

        _minExponent = Math.Floor(Math.Log10(dataMin));
        _maxExponent = Math.Max(_minExponent + 1, Math.Ceiling(Math.Log10(dataMax)));
    }

    public override IReadOnlyList<double> Ticks =>
        Enumerable.Range(0, (int)(_maxExponent - _minExponent) + 1).Select(i => Math.Pow(10, _minExponent + i)).ToArray();

    public override double Map(double value) =>
        PixelFrom + ((Math.Log10(value) - _minExponent) / (_maxExponent - _minExponent) * (PixelTo - PixelFrom));
}

/// <summary>A log axis for powers of two (CPU counts): ticks at each data value.</summary>
internal sealed class Log2ValuesAxis(IReadOnlyList<double> values, double pixelFrom, double pixelTo) : Axis(pixelFrom, pixelTo)
{
    private readonly double _min = Math.Log2(values.Min());
    private readonly double _max = Math.Log2(values.Max());

    public override IReadOnlyList<double> Ticks => values;

    public override double Map(double value) => _max == _min
        ? (PixelFrom + PixelTo) / 2
        : PixelFrom + ((Math.Log2(value) - _min) / (_max - _min) * (PixelTo - PixelFrom));
}

/// <summary>Axis lines, ticks, grid and axis titles.</summary>
internal static class Frame
{
    public static void YAxis(SvgCanvas svg, PlotArea area, Axis axis, string label, double labelOffset = 58)
    {
        svg.BeginGroup("axis y-axis");
        foreach (double tick in axis.Ticks)
        {
            double y = axis.Map(tick);
            svg.Line(area.Left, y, area.Right, y, "#e0e0e0", "grid");
            svg.Text(area.Left - 6, y + 4, axis.Label(tick), "end", "tick");
        }

        svg.Line(area.Left, area.Top, area.Left, area.Bottom, "#333333");
        if (label.Length > 0)
        {
            svg.Text(area.Left - labelOffset, area.Top + (area.Height / 2), label, "middle", "axis-label", rotate: -90);
        }

        svg.EndGroup();
    }

    public static void XAxis(SvgCanvas svg, PlotArea area, Axis axis, string label)
    {
        svg.BeginGroup("axis x-axis");
        foreach (double tick in axis.Ticks)
        {
            double x = axis.Map(tick);
            svg.Line(x, area.Bottom, x, area.Bottom + 5, "#333333");
            svg.Text(x, area.Bottom + 18, axis.Label(tick), "middle", "tick");
        }

        svg.Line(area.Left, area.Bottom, area.Right, area.Bottom, "#333333");
        svg.Text(area.Left + (area.Width / 2), area.Bottom + 40, label, "middle", "axis-label");
        svg.EndGroup();
    }

    public static void CategoryAxis(SvgCanvas svg, PlotArea area, IReadOnlyList<string> categories, string label)
    {
        svg.BeginGroup("axis x-axis");
        double slot = area.Width / categories.Count;
        for (int i = 0; i < categories.Count; i++)
        {
            svg.Text(area.Left + (slot * (i + 0.5)), area.Bottom + 18, categories[i], "middle", "tick");
        }

        svg.Line(area.Left, area.Bottom, area.Right, area.Bottom, "#333333");
        svg.Text(area.Left + (area.Width / 2), area.Bottom + 40, label, "middle", "axis-label");
        svg.EndGroup();
    }
}
