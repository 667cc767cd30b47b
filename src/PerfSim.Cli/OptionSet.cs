using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Cli;

/// <summary>
/// The options one command was given, as System.CommandLine parsed them but still as text: every
/// accessor validates and throws an <see cref="InputException"/> whose one-line message names the
/// option and what it accepts. Options not given are absent (<see cref="Has"/> is false), so a
/// command can tell "not given" from "given the default" when layering scenario files and options.
/// </summary>
internal sealed class OptionSet
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _repeated = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    public OptionSet(CommandSpec spec, ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parse);
        foreach (Option option in spec.Options)
        {
            if (parse.GetResult(option) is not OptionResult { Implicit: false } result)
            {
                continue;
            }

            string name = option.Name[2..];
            switch (option)
            {
                case Option<string[]>:
                    string[] values = parse.GetValue((Option<string[]>)option) ?? [];
                    _repeated[name] = [.. values];
                    _values[name] = values.LastOrDefault();
                    break;
                case Option<bool>:
                    _values[name] = null;
                    break;
                default:
                    if (result.IdentifierTokenCount > 1)
                    {
                        throw new InputException($"--{name}: given twice");
                    }

                    _values[name] = parse.GetValue((Option<string>)option);
                    break;
            }
        }

        if (spec.Arguments is { } arguments)
        {
            _positionals.AddRange(parse.GetValue(arguments) ?? []);
        }
    }

    /// <summary>The arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Every value of a repeatable option, in order; empty when it was not given.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        return _repeated.TryGetValue(name, out List<string>? values) ? values : [];
    }

    public bool Has(string name)
    {
        return _values.ContainsKey(name);
    }

    public string? String(string name)
    {
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
