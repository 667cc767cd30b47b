using PerfSim.Reporting.Comparison;

namespace PerfSim.Reporting.Tests;

public sealed class MannWhitneyTests
{
    [Fact]
    public void Complete_separation_of_three_against_three_has_exact_p_of_one_tenth()
    {
        MannWhitneyResult result = MannWhitney.Test([1, 2, 3], [4, 5, 6]);

        Assert.Equal(0, result.U);
        Assert.True(result.Exact);
        // Only 2 of the C(6,3) = 20 arrangements are this extreme.
        Assert.Equal(0.1, result.PValue, precision: 12);
    }

    [Fact]
    public void Complete_separation_of_four_against_four_is_significant()
    {
        MannWhitneyResult result = MannWhitney.Test([5, 6, 7, 8], [1, 2, 3, 4]);

        Assert.Equal(16, result.U);
        Assert.Equal(2.0 / 70, result.PValue, precision: 12);
    }

    [Fact]
    public void Ties_use_mid_ranks_and_the_tie_corrected_normal_approximation()
    {
        // Pooled ranks: 1 | 2,2,2 -> 3 | 3,3 -> 5.5 | 4 -> 7 | 5 -> 8; baseline rank sum 12.5, U = 2.5.
        // Variance = 4·4/12 · (9 − (24 + 6)/(8·7)); z = (|2.5 − 8| − 0.5)/σ; p computed independently with math.erfc.
        MannWhitneyResult result = MannWhitney.Test([1, 2, 2, 3], [2, 3, 4, 5]);

        Assert.Equal(2.5, result.U);
        Assert.False(result.Exact);
        Assert.Equal(0.13665824773814753, result.PValue, precision: 6);
    }

    [Fact]
    public void Identical_samples_give_p_of_one()
    {
        MannWhitneyResult result = MannWhitney.Test([7, 7, 7, 7], [7, 7, 7]);

        Assert.Equal(6, result.U);
        Assert.Equal(1, result.PValue);
    }

    [Fact]
    public void Exact_p_matches_brute_force_enumeration_of_all_arrangements()
    {
        var random = new Random(42);
        for (int trial = 0; trial < 20; trial++)
        {
            double[] pool = Enumerable.Range(0, 9).Select(_ => random.NextDouble()).Distinct().ToArray();
            double[] baseline = pool[..4];
            double[] current = pool[4..];

            MannWhitneyResult result = MannWhitney.Test(baseline, current);

            Assert.True(result.Exact);
            Assert.Equal(BruteForceP(baseline, current), result.PValue, precision: 12);
        }
    }

    [Fact]
    public void Large_samples_use_the_normal_approximation_which_agrees_on_a_clear_shift()
    {
        double[] baseline = Enumerable.Range(0, 30).Select(i => 100.0 + i).ToArray();
        double[] current = Enumerable.Range(0, 30).Select(i => 120.0 + i).ToArray();

        MannWhitneyResult result = MannWhitney.Test(baseline, current);

        Assert.False(result.Exact);
        // Overlap 120..129: baseline wins 1 + 2 + ... + 9 = 45 pairs and ties 10 (each counts one half).
        Assert.Equal(50, result.U);
        Assert.True(result.PValue < 1e-6);
    }

    [Fact]
    public void Erfc_matches_reference_values()
    {
        Assert.Equal(1, MannWhitney.Erfc(0), precision: 7);
        Assert.Equal(0.04550026389635842, MannWhitney.Erfc(2 / Math.Sqrt(2)), precision: 7);
        Assert.Equal(1.9544997361036416, MannWhitney.Erfc(-2 / Math.Sqrt(2)), precision: 7);
    }

    /// <summary>Two-sided p by enumerating every split of the pooled values into groups of the same sizes.</summary>
    private static double BruteForceP(double[] baseline, double[] current)
    {
        double[] pooled = [.. baseline, .. current];
        double U(IEnumerable<double> a, IEnumerable<double> b) => a.Sum(x => b.Count(y => x > y));
        double observed = U(baseline, current);
        int total = 0, lowOrEqual = 0, highOrEqual = 0;
        foreach (int[] pick in Combinations(pooled.Length, baseline.Length))
        {
            double u = U(pick.Select(i => pooled[i]), pooled.Where((_, i) => !pick.Contains(i)));
            total++;
            lowOrEqual += u <= observed ? 1 : 0;
            highOrEqual += u >= observed ? 1 : 0;
        }

        return Math.Min(1, 2.0 * Math.Min(lowOrEqual, highOrEqual) / total);
    }

    private static IEnumerable<int[]> Combinations(int n, int k, int start = 0)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }

        for (int i = start; i <= n - k; i++)
        {
            foreach (int[] rest in Combinations(n, k - 1, i + 1))
            {
                yield return [i, .. rest];
            }
        }
    }
}
