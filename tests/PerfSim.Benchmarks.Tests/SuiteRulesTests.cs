using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Validators;
using PerfSim.Benchmarks.Gate;
using PerfSim.Benchmarks.Infrastructure;
using PerfSim.Engine.Simulation;

namespace PerfSim.Benchmarks.Tests;

public sealed class SuiteRulesTests
{
    private static readonly Type[] s_suite = [.. typeof(Categories).Assembly.GetTypes()
        .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)];

    [Fact]
    public void Every_benchmark_of_the_suite_passes_the_suite_rules()
    {
        Assert.NotEmpty(s_suite);
        foreach (Type type in s_suite)
        {
            Assert.Empty(Validate(type).Select(e => e.Message));
        }
    }

    [Fact]
    public void Every_benchmark_class_has_the_memory_diagnoser_attribute()
    {
        Assert.All(s_suite, t => Assert.True(t.GetCustomAttribute<MemoryDiagnoserAttribute>() is not null, $"{t.Name} needs [MemoryDiagnoser]"));
    }

    [Fact]
    public void Validator_rejects_a_benchmark_without_a_category()
    {
        ValidationError error = Assert.Single(Validate(typeof(UncategorisedBenchmark)));
        Assert.True(error.IsCritical);
        Assert.Contains("needs exactly one category", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_rejects_an_unknown_category_and_a_parameter_explosion()
    {
        Assert.Contains(Validate(typeof(WrongCategoryBenchmark)), e => e.Message.Contains("needs exactly one category", StringComparison.Ordinal));
        Assert.Contains(Validate(typeof(ExplodingBenchmark)), e => e.Message.Contains("17 cases, at most 16", StringComparison.Ordinal));
    }

    /// <summary>A benchmark added without recording its allocations would fail the CI gate; this
    /// says so at test time, with the names the file must hold.</summary>
    [Fact]
    public void Committed_allocations_file_covers_exactly_the_suite()
    {
        var names = s_suite.SelectMany(t => BenchmarkConverter.TypeToBenchmarks(t, SuiteConfig.Create(quick: true)).BenchmarksCases)
            .Select(FullNameProvider.GetBenchmarkName).Order(StringComparer.Ordinal).ToList();
        var recorded = AllocationGate.ReadExpectations(RepoPaths.Allocations).Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names, recorded);
    }

    [Fact]
    public void Scenario_benchmarks_operations_per_invoke_is_the_runs_fault_count()
    {
        foreach ((string method, ScenarioConfig config, long faults) in ScenarioBenchmarks.Cases)
        {
            Assert.True(SimulationRun.Execute(config).Faults == faults, $"{method}: OperationsPerInvoke says {faults} faults; the run has a different count");
        }
    }

    private static List<ValidationError> Validate(Type type)
    {
        BenchmarkRunInfo info = BenchmarkConverter.TypeToBenchmarks(type, SuiteConfig.Create(quick: true));
        return [.. SuiteRulesValidator.Instance.Validate(new ValidationParameters(info.BenchmarksCases, info.Config))];
    }
}

#pragma warning disable CA1822 // BenchmarkDotNet calls instance methods
public class UncategorisedBenchmark
{
    [Benchmark]
    public int Work() => 1;
}

[BenchmarkCategory("Misc")]
public class WrongCategoryBenchmark
{
    [Benchmark]
    public int Work() => 1;
}

[BenchmarkCategory(Categories.Tlb)]
public class ExplodingBenchmark
{
    [Params(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)]
    public int N { get; set; }

    [Benchmark]
    public int Work() => N;
}
#pragma warning restore CA1822
