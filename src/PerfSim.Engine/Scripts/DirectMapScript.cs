using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Scripts;

/// <summary>One operation of a direct-map script.</summary>
public enum ScriptOp
{
    /// <summary><c>invalid PFN [N]</c>: N calls of <c>set_direct_map_invalid_noflush</c>, one page each.</summary>
    Invalid,

    /// <summary><c>default PFN [N]</c>: N calls of <c>set_direct_map_default_noflush</c>.</summary>
    Default,

    /// <summary><c>valid PFN N 0|1</c>: one call of <c>set_direct_map_valid_noflush(page, N, valid)</c>.</summary>
    Valid,

    /// <summary><c>access PFN [N]</c>: a kernel access through the direct map to each page (checked).</summary>
    Access,

    /// <summary><c>free PFN [N]</c>: each frame handed back to the page allocator (checked).</summary>
    Free,

    /// <summary><c>fail-alloc N</c>: the next N page-table allocations fail (fault injection).</summary>
    FailAlloc,
}

/// <summary>A parsed script line.</summary>
public readonly record struct ScriptLine(int Line, ScriptOp Op, long Pfn, long Pages, bool Valid);

/// <summary>
/// A script of direct-map operations, one per line; PFNs decimal or 0x-hex; <c>#</c> starts a
/// comment. Parsing checks the syntax and that every PFN range lies below the end of RAM.
/// </summary>
public static class DirectMapScript
{
    public const string Syntax = "invalid PFN [NPAGES] | default PFN [NPAGES] | valid PFN NPAGES 0|1 | access PFN [NPAGES] | free PFN [NPAGES] | fail-alloc N";

    public static IReadOnlyList<ScriptLine> Parse(string text, string source, long endPfn)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<ScriptLine>();
        string[] raw = text.Split('\n');
        for (int i = 0; i < raw.Length; i++)
        {
            int hash = raw[i].IndexOf('#', StringComparison.Ordinal);
            string content = (hash >= 0 ? raw[i][..hash] : raw[i]).Trim();
            if (content.Length > 0)
            {
                lines.Add(ParseLine(content.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), i + 1, source, endPfn));
            }
        }

        return lines;
    }

    private static ScriptLine ParseLine(string[] words, int line, string source, long endPfn)
    {
        string where = $"{source}:{line}";
        ScriptOp op = words[0] switch
        {
            "invalid" => ScriptOp.Invalid,
            "default" => ScriptOp.Default,
            "valid" => ScriptOp.Valid,
            "access" => ScriptOp.Access,
            "free" => ScriptOp.Free,
            "fail-alloc" => ScriptOp.FailAlloc,
            _ => throw new InputException($"{where}: unknown operation '{words[0]}'; expected {Syntax}"),
        };

        if (op == ScriptOp.FailAlloc)
        {
            if (words.Length != 2 || !Sizes.TryParseInteger(words[1], out long count) || count > int.MaxValue)
            {
                throw new InputException($"{where}: expected 'fail-alloc N' with N from 0 to {int.MaxValue}");
            }

            return new ScriptLine(line, op, 0, count, false);
        }

        int expectedWords = op == ScriptOp.Valid ? 4 : -1;
        if ((expectedWords > 0 && words.Length != expectedWords) || (expectedWords < 0 && words.Length is < 2 or > 3))
        {
            string form = op == ScriptOp.Valid ? "valid PFN NPAGES 0|1" : $"{words[0]} PFN [NPAGES]";
            throw new InputException($"{where}: expected '{form}'");
        }

        if (!Sizes.TryParseInteger(words[1], out long pfn))
        {
            throw new InputException($"{where}: PFN '{words[1]}' is not a decimal or 0x-hex number");
        }

        long pages = 1;
        if (words.Length >= 3 && (!Sizes.TryParseInteger(words[2], out pages) || pages < 1))
        {
            throw new InputException($"{where}: NPAGES '{words[2]}' must be a number from 1 to {endPfn}");
        }

        bool valid = false;
        if (op == ScriptOp.Valid)
        {
            valid = words[3] switch
            {
                "1" => true,
                "0" => false,
                _ => throw new InputException($"{where}: the last field of 'valid' must be 0 or 1, got '{words[3]}'"),
            };
        }

        if (pfn >= endPfn || pages > endPfn - pfn)
        {
            throw new InputException($"{where}: PFN range 0x{pfn:x}+{pages} is outside RAM (PFNs 0 to 0x{endPfn - 1:x})");
        }

        return new ScriptLine(line, op, pfn, pages, valid);
    }
}
