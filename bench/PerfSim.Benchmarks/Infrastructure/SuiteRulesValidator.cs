using BenchmarkDotNet.Validators;

namespace PerfSim.Benchmarks.Infrastructure;

/// <summary>
/// The suite's rules as a BenchmarkDotNet validator (style.md item 21): every benchmark has exactly
/// one category from <see cref="Categories"/>, and no class expands to more than
/// <see cref="MaxCasesPerClass"/> cases. Errors are critical, so BDN refuses to run and
/// <see cref="Program"/> exits non-zero.
/// </summary>
public sealed class SuiteRulesValidator : IValidator
{
    /// <summary>A class with more cases than this is a parameter explosion the quick CI job cannot afford.</summary>
    public const int MaxCasesPerClass = 16;

    public static readonly SuiteRulesValidator Instance = new();

    public bool TreatsWarningsAsErrors => true;

    public IEnumerable<ValidationError> Validate(ValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(validationParameters);
        foreach (var benchmark in validationParameters.Benchmarks)
        {
            string[] known = [.. benchmark.Descriptor.Categories.Where(c => Categories.All.Contains(c, StringComparer.Ordinal))];
            if (known.Length != 1)
            {
                yield return new ValidationError(true,
                    $"{benchmark.Descriptor.DisplayInfo}: needs exactly one category from Categories ({string.Join(", ", Categories.All)}), has [{string.Join(", ", benchmark.Descriptor.Categories)}]",
                    benchmark);
            }
        }

        // Per job: running the suite under two jobs doubles the cases without widening any class.
        foreach (var group in validationParameters.Benchmarks.GroupBy(b => (b.Descriptor.Type, b.Job.Id)))
        {
            int cases = group.Count();
            if (cases > MaxCasesPerClass)
            {
                yield return new ValidationError(true, $"{group.Key.Type.Name}: {cases} cases, at most {MaxCasesPerClass} per class");
            }
        }
    }
}
