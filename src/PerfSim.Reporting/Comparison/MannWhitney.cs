namespace PerfSim.Reporting.Comparison;

/// <summary>Outcome of a two-sided Mann–Whitney U test; <see cref="U"/> is the baseline sample's statistic.</summary>
public readonly record struct MannWhitneyResult(double U, double PValue, bool Exact);

/// <summary>
/// Two-sided Mann–Whitney U (Wilcoxon rank-sum) test, as dotnet/performance's ResultsComparer
/// uses to decide whether two sets of timings differ. Small samples without ties use the exact
/// null distribution; otherwise the normal approximation with tie and continuity corrections.
/// </summary>
public static class MannWhitney
{
    // Exact counts grow like C(n1+n2, n1); beyond 40 values doubles lose the integer precision the
    // recurrence needs, and the normal approximation is accurate there anyway.
    private const int ExactLimit = 40;

    public static MannWhitneyResult Test(IReadOnlyList<double> baseline, IReadOnlyList<double> current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        int n1 = baseline.Count;
        int n2 = current.Count;
        if (n1 == 0 || n2 == 0)
        {
            throw new ArgumentException("Both samples need at least one value.");
        }

        (double rankSum1, double tieTerm) = RankSum(baseline, current);
        double u = rankSum1 - (n1 * (n1 + 1) / 2.0);
        if (tieTerm == 0 && n1 + n2 <= ExactLimit)
        {
            return new MannWhitneyResult(u, ExactPValue((int)u, n1, n2), Exact: true);
        }

        double n = n1 + n2;
        double mean = n1 * (double)n2 / 2;
        double variance = n1 * (double)n2 / 12 * (n + 1 - (tieTerm / (n * (n - 1))));
        if (variance <= 0)
        {
            // Every value equal: no evidence of any difference.
            return new MannWhitneyResult(u, 1, Exact: false);
        }

        double z = Math.Max(0, Math.Abs(u - mean) - 0.5) / Math.Sqrt(variance);
        return new MannWhitneyResult(u, Math.Min(1, Erfc(z / Math.Sqrt(2))), Exact: false);
    }

    /// <summary>Sum of the baseline's mid-ranks in the pooled sample and Σ(t³ − t) over tie groups.</summary>
    private static (double RankSum, double TieTerm) RankSum(IReadOnlyList<double> baseline, IReadOnlyList<double> current)
    {
        (double Value, bool IsBaseline)[] pooled = baseline.Select(v => (v, true)).Concat(current.Select(v => (v, false))).ToArray();
        Array.Sort(pooled, (a, b) => a.Value.CompareTo(b.Value));
        double rankSum = 0;
        double tieTerm = 0;
        for (int start = 0; start < pooled.Length;)
        {
            int end = start;
            while (end + 1 < pooled.Length && pooled[end + 1].Value == pooled[start].Value)
            {
                end++;
            }

            int ties = end - start + 1;
            double midRank = ((start + 1) + (end + 1)) / 2.0;
            for (int i = start; i <= end; i++)
            {
                rankSum += pooled[i].IsBaseline ? midRank : 0;
            }

            tieTerm += ((double)ties * ties * ties) - ties;
            start = end + 1;
        }

        return (rankSum, tieTerm);
    }

    /// <summary>
    /// Exact two-sided p: the number of arrangements with U = k is the coefficient of q^k in the
    /// Gaussian binomial [n1+n2 choose n1]_q, built as Π (1 − q^(n2+i)) / (1 − q^i).
    /// </summary>
    private static double ExactPValue(int u, int n1, int n2)
    {
        int degree = n1 * n2;
        double[] ways = new double[degree + 1];
        ways[0] = 1;
        for (int i = 1; i <= n1; i++)
        {
            int up = n2 + i;
            for (int k = degree; k >= up; k--)
            {
                ways[k] -= ways[k - up];
            }

            for (int k = i; k <= degree; k++)
            {
                ways[k] += ways[k - i];
            }
        }

        double total = ways.Sum();
        double lower = ways.Take(u + 1).Sum() / total;
        double upper = ways.Skip(u).Sum() / total;
        return Math.Min(1, 2 * Math.Min(lower, upper));
    }

    /// <summary>Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).</summary>
    internal static double Erfc(double x)
    {
        ReadOnlySpan<double> coefficients =
        [
            -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
            0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
        ];
        double z = Math.Abs(x);
        double t = 1 / (1 + (0.5 * z));
        double poly = 0;
        for (int i = coefficients.Length - 1; i >= 0; i--)
        {
            poly = coefficients[i] + (t * poly);
        }

        double r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }
}
