using System.Globalization;
using PerfSim.Engine.Inputs;

namespace PerfSim.Cli;

/// <summary>
/// The options of one command: <c>--name value</c>, <c>--name=value</c> or a bare <c>--flag</c>.
/// Every accessor validates and throws an <see cref="InputException"/> whose one-line message
/// names the option and what it accepts.
/// </summary>
internal sealed class OptionSet
{
    private readonly string _command;
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _repeated = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    private OptionSet(string command) => _command = command;

    /// <summary>Parses <paramref name="args"/> against the options the command knows: names in
    /// <paramref name="valued"/> take a value, names in <paramref name="flags"/> do not, names in
    /// <paramref name="repeatable"/> take a value and may be given more than once. Arguments
    /// that are not options (<c>BASELINE CURRENT</c>) are refused unless
    /// <paramref name="allowPositionals"/>; then they are kept, in order, in <see cref="Positionals"/>.</summary>
    public static OptionSet Parse(
        string command, IReadOnlyList<string> args, IEnumerable<string> valued, IEnumerable<string> flags, IEnumerable<string>? repeatable = null, bool allowPositionals = false)
    {
        var set = new OptionSet(command);
        var isRepeatable = new HashSet<string>(repeatable ?? [], StringComparer.Ordinal);
        var takesValue = new HashSet<string>(valued.Concat(isRepeatable), StringComparer.Ordinal);
        var isFlag = new HashSet<string>(flags, StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (allowPositionals && !arg.StartsWith("--", StringComparison.Ordinal))
            {
                set._positionals.Add(arg);
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new InputException($"perfsim {command}: unexpected argument '{arg}'; options start with --");
            }

            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (isFlag.Contains(name))
            {
                if (value is not null)
                {
                    throw new InputException($"--{name}: takes no value");
                }
            }
            else if (takesValue.Contains(name))
            {
                if (value is null)
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new InputException($"--{name}: missing value");
                    }

                    value = args[++i];
                }
            }
            else
            {
                string known = string.Join(", ", takesValue.Concat(isFlag).Order(StringComparer.Ordinal).Select(n => "--" + n));
                throw new InputException($"perfsim {command}: unknown option --{name}; accepted: {known}");
            }

            if (isRepeatable.Contains(name))
            {
                set._values[name] = value;
                if (!set._repeated.TryGetValue(name, out List<string>? list))
                {
                    set._repeated.Add(name, list = []);
                }

                list.Add(value!);
            }
            else if (!set._values.TryAdd(name, value))
            {
                throw new InputException($"--{name}: given twice");
            }
        }

        return set;
    }

    /// <summary>The arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Every value of a repeatable option, in order; empty when it was not given.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        _read.Add(name);
        return _repeated.TryGetValue(name, out List<string>? values) ? values : [];
    }

    public bool Has(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _values.GetValueOrDefault(name);
    }

    public string Choice(string name, IReadOnlyList<string> accepted, string fallback)
    {
        string? value = String(name);
        if (value is null)
        {
            return fallback;
        }

        return accepted.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new InputException($"--{name}: '{value}' is not one of {string.Join(", ", accepted)}");
    }

    public bool OnOff(string name, bool fallback) => Choice(name, ["on", "off"], fallback ? "on" : "off") == "on";

    public long Integer(string name, long min, long max, long fallback)
    {
        string? value = String(name);
        if (value is null)
        {
            return fallback;
        }

        if (!Sizes.TryParseInteger(value, out long n) || n < min || n > max)
        {
            throw new InputException(string.Create(CultureInfo.InvariantCulture, $"--{name}: '{value}' is not an integer from {min} to {max}"));
        }

        return n;
    }

    public long Bytes(string name, long min, long max, long fallback)
    {
        string? value = String(name);
        if (value is null)
        {
            return fallback;
        }

        if (!Sizes.TryParseBytes(value, out long n) || n < min || n > max)
        {
            throw new InputException($"--{name}: '{value}' is not a size from {Sizes.Format(min)} to {Sizes.Format(max)} (e.g. 16G, 512M, 4096)");
        }

        return n;
    }

    /// <summary>At most one of <paramref name="names"/> may be given.</summary>
    public void Exclusive(params string[] names)
    {
        string[] given = [.. names.Where(_values.ContainsKey)];
        if (given.Length > 1)
        {
            throw new InputException($"{string.Join(" and ", given.Select(n => "--" + n))} cannot be combined: give one");
        }
    }

    /// <summary>The contents of the file an option names, with a one-line error if it cannot be read.</summary>
    public string ReadFile(string name) =>
        Commands.InputFile.Read(String(name) ?? throw new InvalidOperationException($"--{name} was not given"), name);
}
