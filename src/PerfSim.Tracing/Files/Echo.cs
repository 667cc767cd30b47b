using System.Globalization;
using System.Text;

namespace PerfSim.Tracing.Files;

/// <summary>
/// File content quoted in an error message: control and other invisible characters escaped (a
/// stray <c>\r</c> or escape sequence must not rewrite the user's terminal line) and the length
/// capped (a 1 MB line is not an error message).
/// </summary>
public static class Echo
{
    /// <summary>Characters of the input kept in an echo; longer ones end in "...".</summary>
    public const int MaxChars = 40;

    /// <summary><paramref name="text"/> escaped and cut to <see cref="MaxChars"/>.</summary>
    public static string Of(ReadOnlySpan<char> text) =>
        Printable(text.Length <= MaxChars ? text : text[..MaxChars]) + (text.Length > MaxChars ? "..." : "");

    /// <summary><paramref name="text"/> with every invisible character as <c>\xNN</c> or <c>\uNNNN</c>.</summary>
    public static string Printable(ReadOnlySpan<char> text)
    {
        StringBuilder? escaped = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool visible = c == ' ' || (!char.IsControl(c) && !char.IsSurrogate(c)
                && CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator));
            if (visible && escaped is null)
            {
                continue;
            }

            escaped ??= new StringBuilder(text.Length + 8).Append(text[..i]);
            if (visible)
            {
                escaped.Append(c);
            }
            else
            {
                escaped.Append(c <= 0xFF ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"));
            }
        }

        return escaped?.ToString() ?? text.ToString();
    }
}
