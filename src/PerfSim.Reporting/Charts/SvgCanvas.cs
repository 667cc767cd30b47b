using System.Globalization;
using System.Text;
using System.Xml;

namespace PerfSim.Reporting.Charts;

/// <summary>
/// A thin, deterministic SVG writer over <see cref="XmlWriter"/> (so text is always escaped and
/// the document well-formed). Coordinates are written with at most two decimals, invariant; a
/// non-finite coordinate is a bug in the chart and throws rather than producing a broken file.
/// </summary>
internal sealed class SvgCanvas
{
    public const string Namespace = "http://www.w3.org/2000/svg";

    // Colour-blind-safe (Okabe–Ito) so strategies stay distinguishable in print and for readers with CVD.
    private static readonly string[] s_palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

    private readonly StringBuilder _text = new();
    private readonly XmlWriter _xml;

    public SvgCanvas(double width, double height, string title)
    {
        Width = width;
        Height = height;
        _xml = XmlWriter.Create(_text, new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            NewLineChars = "\n",
            OmitXmlDeclaration = true,
        });
        _xml.WriteStartElement("svg", Namespace);
        Attr("width", width);
        Attr("height", height);
        _xml.WriteAttributeString("viewBox", $"0 0 {Num(width)} {Num(height)}");
        _xml.WriteAttributeString("role", "img");
        _xml.WriteAttributeString("font-family", "sans-serif");
        _xml.WriteAttributeString("font-size", "12");
        _xml.WriteElementString("title", Namespace, title);
        Rect(0, 0, width, height, "#ffffff", "background");
        Text(width / 2, 24, title, "middle", "title", size: 16);
    }

    public double Width { get; }

    public double Height { get; }

    public static string Color(int index) => s_palette[index % s_palette.Length];

    public static string Num(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new InvalidOperationException($"Chart coordinate is not finite: {value}.");
        }

        string text = Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }

    public void BeginGroup(string cssClass, string? series = null)
    {
        _xml.WriteStartElement("g", Namespace);
        _xml.WriteAttributeString("class", cssClass);
        if (series is not null)
        {
            _xml.WriteAttributeString("data-series", series);
        }
    }

    public void EndGroup() => _xml.WriteEndElement();

    public void Rect(double x, double y, double width, double height, string fill, string? cssClass = null, string? tooltip = null, double opacity = 1)
    {
        _xml.WriteStartElement("rect", Namespace);
        ClassAttr(cssClass);
        Attr("x", x);
        Attr("y", y);
        Attr("width", Math.Max(0, width));
        Attr("height", Math.Max(0, height));
        _xml.WriteAttributeString("fill", fill);
        if (opacity < 1)
        {
            Attr("fill-opacity", opacity);
        }

        Tooltip(tooltip);
        _xml.WriteEndElement();
    }

    public void Line(double x1, double y1, double x2, double y2, string stroke, string? cssClass = null, string? dash = null, double width = 1)
    {
        _xml.WriteStartElement("line", Namespace);
        ClassAttr(cssClass);
        Attr("x1", x1);
        Attr("y1", y1);
        Attr("x2", x2);
        Attr("y2", y2);
        _xml.WriteAttributeString("stroke", stroke);
        if (width != 1)
        {
            Attr("stroke-width", width);
        }

        Dash(dash);
        _xml.WriteEndElement();
    }

    public void Polyline(IEnumerable<(double X, double Y)> points, string stroke, string? dash = null)
    {
        _xml.WriteStartElement("polyline", Namespace);
        _xml.WriteAttributeString("points", Points(points));
        _xml.WriteAttributeString("fill", "none");
        _xml.WriteAttributeString("stroke", stroke);
        _xml.WriteAttributeString("stroke-width", "2");
        Dash(dash);
        _xml.WriteEndElement();
    }

    public void Polygon(IEnumerable<(double X, double Y)> points, string fill, string? tooltip = null)
    {
        _xml.WriteStartElement("polygon", Namespace);
        _xml.WriteAttributeString("points", Points(points));
        _xml.WriteAttributeString("fill", fill);
        Tooltip(tooltip);
        _xml.WriteEndElement();
    }

    public void Circle(double cx, double cy, double r, string fill, string? tooltip = null, string? stroke = null)
    {
        _xml.WriteStartElement("circle", Namespace);
        Attr("cx", cx);
        Attr("cy", cy);
        Attr("r", r);
        _xml.WriteAttributeString("fill", fill);
        if (stroke is not null)
        {
            _xml.WriteAttributeString("stroke", stroke);
            _xml.WriteAttributeString("stroke-width", "2");
        }

        Tooltip(tooltip);
        _xml.WriteEndElement();
    }

    public void Text(double x, double y, string text, string anchor = "start", string? cssClass = null, double size = 12, double rotate = 0)
    {
        _xml.WriteStartElement("text", Namespace);
        ClassAttr(cssClass);
        Attr("x", x);
        Attr("y", y);
        _xml.WriteAttributeString("text-anchor", anchor);
        if (size != 12)
        {
            Attr("font-size", size);
        }

        if (rotate != 0)
        {
            _xml.WriteAttributeString("transform", $"rotate({Num(rotate)} {Num(x)} {Num(y)})");
        }

        _xml.WriteString(text);
        _xml.WriteEndElement();
    }

    /// <summary>A legend row under the title: one swatch and name per series.</summary>
    public void Legend(IReadOnlyList<string> names, double y)
    {
        BeginGroup("legend");
        double x = 80;
        for (int i = 0; i < names.Count; i++)
        {
            Rect(x, y - 10, 12, 12, Color(i));
            Text(x + 16, y, names[i]);
            x += 28 + (7 * names[i].Length);
        }

        EndGroup();
    }

    public string Finish()
    {
        _xml.WriteEndElement();
        _xml.Flush();
        return _text.Append('\n').ToString();
    }

    private void Attr(string name, double value) => _xml.WriteAttributeString(name, Num(value));

    private static string Points(IEnumerable<(double X, double Y)> points) => string.Join(" ", points.Select(p => $"{Num(p.X)},{Num(p.Y)}"));

    private void Dash(string? dash)
    {
        if (dash is not null)
        {
            _xml.WriteAttributeString("stroke-dasharray", dash);
        }
    }

    private void ClassAttr(string? cssClass)
    {
        if (cssClass is not null)
        {
            _xml.WriteAttributeString("class", cssClass);
        }
    }

    private void Tooltip(string? tooltip)
    {
        if (tooltip is not null)
        {
            _xml.WriteElementString("title", Namespace, tooltip);
        }
    }
}
