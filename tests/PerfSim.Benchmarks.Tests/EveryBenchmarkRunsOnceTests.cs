using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using PerfSim.Benchmarks.Infrastructure;

namespace PerfSim.Benchmarks.Tests;

/// <summary>
/// Every benchmark of the suite runs once, in process and without BenchmarkDotNet's harness, once
/// per parameter combination, with its setups and cleanups: a benchmark that throws fails here,
/// named, instead of only when the suite runs (MermapBenchmarks once broke unnoticed that way).
/// </summary>
/// <remarks>Each combination runs in full: the largest, a scenario benchmark, is one 256 MiB guest
/// boot (about a second), so none needs cutting down to its smallest parameters.</remarks>
public sealed class EveryBenchmarkRunsOnceTests
{
    private static readonly IReadOnlyDictionary<string, BenchmarkOnce> s_suite = BenchmarkOnce.Discover(typeof(Categories).Assembly)
        .ToDictionary(b => b.Name, StringComparer.Ordinal);

    public static TheoryData<string> Names => [.. s_suite.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Names))]
    public void Runs_once_without_throwing(string name) => s_suite[name].Run();

    /// <summary>The discovery here and BenchmarkDotNet's agree: one run per case it would measure.</summary>
    [Fact]
    public void Finds_every_case_BenchmarkDotNet_lists()
    {
        int listed = typeof(Categories).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .Sum(t => BenchmarkConverter.TypeToBenchmarks(t, SuiteConfig.Create(quick: true)).BenchmarksCases.Length);

        Assert.True(listed > 0);
        Assert.Equal(listed, s_suite.Count);
    }

    [Fact]
    public void A_benchmark_that_throws_fails_with_its_name_and_still_cleans_up()
    {
        Recorder.Calls.Clear();
        BenchmarkOnce throwing = Assert.Single(BenchmarkOnce.Of(typeof(ThrowingBenchmark)));

        Exception e = Assert.Throws<InvalidOperationException>(throwing.Run);

        Assert.Contains("ThrowingBenchmark.Work", e.Message, StringComparison.Ordinal);
        Assert.Equal("broken", e.InnerException?.Message);
        Assert.Equal(["global setup", "work", "global cleanup"], Recorder.Calls);
    }

    [Fact]
    public void Each_combination_of_params_and_arguments_runs_once_between_its_setups_and_cleanups()
    {
        BenchmarkOnce[] cases = [.. BenchmarkOnce.Of(typeof(RecordingBenchmark))];

        // Size 1, 2 ([Params]) × Mode a, b ([ParamsSource]) × for Sum, x = 3, 4 ([Arguments]) and 5
        // ([ArgumentsSource]): BenchmarkDotNet's count, every name once.
        Assert.Equal(16, cases.Length);
        Assert.Equal(BenchmarkConverter.TypeToBenchmarks(typeof(RecordingBenchmark)).BenchmarksCases.Length, cases.Length);
        Assert.Equal(cases.Length, cases.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());

        Recorder.Calls.Clear();
        cases.Single(c => c.Name == "RecordingBenchmark.Sum(Mode=b, Size=2, x=5)").Run();
        Assert.Equal(["global setup", "iteration setup", "sum 2 b 5", "iteration cleanup", "global cleanup"], Recorder.Calls);

        // A setup with a target runs for that benchmark only.
        Recorder.Calls.Clear();
        cases.Single(c => c.Name == "RecordingBenchmark.Other(Mode=a, Size=1)").Run();
        Assert.Equal(["other setup", "other", "global cleanup"], Recorder.Calls);
    }

    internal static class Recorder
    {
        public static List<string> Calls { get; } = [];
    }

#pragma warning disable CA1822, CA1024 // BenchmarkDotNet's shapes: instance methods and source methods
    public class ThrowingBenchmark
    {
        [GlobalSetup]
        public void Setup() => Recorder.Calls.Add("global setup");

        [GlobalCleanup]
        public void Cleanup() => Recorder.Calls.Add("global cleanup");

        [Benchmark]
        public int Work()
        {
            Recorder.Calls.Add("work");
            throw new InvalidOperationException("broken");
        }
    }

    public class RecordingBenchmark
    {
        [Params(1, 2)]
        public int Size { get; set; }

        [ParamsSource(nameof(Modes))]
        public string Mode = string.Empty;

        public static IEnumerable<string> Modes() => ["a", "b"];

        public static IEnumerable<object> Xs() => [5];

        [GlobalSetup(Target = nameof(Sum))]
        public void Setup() => Recorder.Calls.Add("global setup");

        [GlobalSetup(Target = nameof(Other))]
        public void OtherSetup() => Recorder.Calls.Add("other setup");

        [IterationSetup(Target = nameof(Sum))]
        public void IterationSetup() => Recorder.Calls.Add("iteration setup");

        [IterationCleanup(Target = nameof(Sum))]
        public void IterationCleanup() => Recorder.Calls.Add("iteration cleanup");

        [GlobalCleanup]
        public void Cleanup() => Recorder.Calls.Add("global cleanup");

        [Benchmark]
        [Arguments(3)]
        [Arguments(4)]
        [ArgumentsSource(nameof(Xs))]
        public void Sum(int x) => Recorder.Calls.Add(string.Create(CultureInfo.InvariantCulture, $"sum {Size} {Mode} {x}"));

        [Benchmark]
        public void Other() => Recorder.Calls.Add("other");
    }
#pragma warning restore CA1822, CA1024
}

/// <summary>One benchmark case found by reflection (a [Benchmark] method with one value of each
/// [Params]/[ParamsSource]/[ParamsAllValues] member and one row of its [Arguments]/[ArgumentsSource])
/// and how BenchmarkDotNet would run it, once: a fresh instance, parameters set, global setup,
/// iteration setup, the method, iteration cleanup, global cleanup (the cleanups also after a throw).</summary>
internal sealed class BenchmarkOnce
{
    private const BindingFlags Members = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;

    private readonly Type _type;
    private readonly MethodInfo _method;
    private readonly (MemberInfo Member, object? Value)[] _parameters;
    private readonly object?[] _arguments;

    private BenchmarkOnce(Type type, MethodInfo method, (MemberInfo, object?)[] parameters, object?[] arguments)
    {
        _type = type;
        _method = method;
        _parameters = parameters;
        _arguments = arguments;
        IEnumerable<string> shown = parameters.Select(p => $"{p.Item1.Name}={Show(p.Item2)}")
            .Concat(method.GetParameters().Zip(arguments, (p, a) => $"{p.Name}={Show(a)}"));
        string list = string.Join(", ", shown);
        Name = $"{type.Name}.{method.Name}" + (list.Length == 0 ? "" : $"({list})");
    }

    /// <summary><c>Class.Method(Param=value, argument=value)</c>.</summary>
    public string Name { get; }

    public override string ToString() => Name;

    /// <summary>Every case of every benchmark class of <paramref name="assembly"/>.</summary>
    public static IEnumerable<BenchmarkOnce> Discover(Assembly assembly) =>
        assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }).SelectMany(Of);

    /// <summary>Every case of <paramref name="type"/>'s benchmarks (none if it has no [Benchmark]).</summary>
    public static IEnumerable<BenchmarkOnce> Of(Type type)
    {
        MethodInfo[] benchmarks = [.. type.GetMethods(Members).Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)];
        if (benchmarks.Length == 0)
        {
            return [];
        }

        List<(MemberInfo, object?)[]> combinations = [[]];
        foreach (MemberInfo member in type.GetMembers(Members).Where(m => m is FieldInfo or PropertyInfo).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (ParameterValues(type, member) is { } values)
            {
                combinations = [.. combinations.SelectMany(c => values.Select(v => ((MemberInfo, object?)[])[.. c, (member, v)]))];
            }
        }

        return benchmarks.SelectMany(m => combinations.SelectMany(c => ArgumentRows(type, m).Select(a => new BenchmarkOnce(type, m, c, a))));
    }

    /// <summary>Runs the case once; a throw from any step is rethrown naming the case.</summary>
    public void Run()
    {
        object instance = Activator.CreateInstance(_type)!;
        foreach ((MemberInfo member, object? value) in _parameters)
        {
            if (member is FieldInfo field)
            {
                field.SetValue(field.IsStatic ? null : instance, value);
            }
            else
            {
                ((PropertyInfo)member).SetValue(instance, value);
            }
        }

        try
        {
            Call<GlobalSetupAttribute>(instance);
            try
            {
                Call<IterationSetupAttribute>(instance);
                try
                {
                    Wait(_method.Invoke(_method.IsStatic ? null : instance, _arguments));
                }
                finally
                {
                    Call<IterationCleanupAttribute>(instance);
                }
            }
            finally
            {
                Call<GlobalCleanupAttribute>(instance);
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidOperationException($"{Name} threw {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }

    /// <summary>The setup or cleanup methods of kind <typeparamref name="T"/> that apply to this
    /// benchmark: those without targets and those that name it.</summary>
    private void Call<T>(object instance)
        where T : TargetedAttribute
    {
        foreach (MethodInfo m in _type.GetMethods(Members))
        {
            if (m.GetCustomAttribute<T>() is { } a && (a.Targets is null || a.Targets.Length == 0 || a.Targets.Contains(_method.Name)))
            {
                Wait(m.Invoke(m.IsStatic ? null : instance, null));
            }
        }
    }

    private static void Wait(object? result)
    {
        switch (result)
        {
            case Task task:
                task.GetAwaiter().GetResult();
                break;
            case ValueTask task:
                task.AsTask().GetAwaiter().GetResult();
                break;
        }
    }

    /// <summary>The values of a [Params]/[ParamsSource]/[ParamsAllValues] member; null for any other member.</summary>
    private static object?[]? ParameterValues(Type type, MemberInfo member)
    {
        Type memberType = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
        if (member.GetCustomAttribute<ParamsAttribute>() is { } values)
        {
            return [.. values.Values.Select(v => v is null ? null : Convert.ChangeType(v, Nullable.GetUnderlyingType(memberType) ?? memberType, CultureInfo.InvariantCulture))];
        }

        if (member.GetCustomAttribute<ParamsSourceAttribute>() is { } source)
        {
            return [.. Source(type, source.Name).Cast<object?>()];
        }

        if (member.GetCustomAttribute<ParamsAllValuesAttribute>() is not null)
        {
            Type t = Nullable.GetUnderlyingType(memberType) ?? memberType;
            object?[] all = t == typeof(bool) ? [false, true] : [.. Enum.GetValues(t).Cast<object?>()];
            return t == memberType ? all : [.. all, null];
        }

        return null;
    }

    /// <summary>The argument rows of a benchmark: each [Arguments], then each item of each
    /// [ArgumentsSource] (an <c>object[]</c> for several parameters); one empty row without any.</summary>
    private static List<object?[]> ArgumentRows(Type type, MethodInfo method)
    {
        var rows = new List<object?[]>();
        rows.AddRange(method.GetCustomAttributes<ArgumentsAttribute>().Select(a => a.Values));
        foreach (ArgumentsSourceAttribute source in method.GetCustomAttributes<ArgumentsSourceAttribute>())
        {
            rows.AddRange(Source(source.Type ?? type, source.Name).Cast<object?>()
                .Select(item => method.GetParameters().Length == 1 ? [item] : (object?[])item!));
        }

        return rows.Count == 0 ? [[]] : rows;
    }

    /// <summary>What a source member (method, property or field, static or not) yields.</summary>
    private static System.Collections.IEnumerable Source(Type type, string name)
    {
        MemberInfo member = type.GetMember(name, Members | BindingFlags.NonPublic).Single();
        bool isStatic = member switch
        {
            MethodInfo m => m.IsStatic,
            FieldInfo f => f.IsStatic,
            _ => ((PropertyInfo)member).GetMethod!.IsStatic,
        };
        object? target = isStatic ? null : Activator.CreateInstance(type);
        object? value = member switch
        {
            MethodInfo m => m.Invoke(target, null),
            FieldInfo f => f.GetValue(target),
            _ => ((PropertyInfo)member).GetValue(target),
        };
        return (System.Collections.IEnumerable)value!;
    }

    private static string Show(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
}
