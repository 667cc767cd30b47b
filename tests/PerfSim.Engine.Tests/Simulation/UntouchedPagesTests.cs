using PerfSim.Engine.Simulation;

namespace PerfSim.Engine.Tests.Simulation;

public sealed class UntouchedPagesTests
{
    /// <summary>Seeded random takes and queries against a plain bool array: sizes around word and
    /// summary boundaries, queries anywhere (including past the end), until every page is taken.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(63, 2)]
    [InlineData(64, 3)]
    [InlineData(65, 4)]
    [InlineData(4096, 5)]
    [InlineData(4097, 6)]
    [InlineData(20_000, 7)]
    public void Next_untouched_page_matches_a_linear_scan(int pages, int seed)
    {
        var set = new UntouchedPages(pages);
        bool[] taken = new bool[pages];
        var rng = new Random(seed);
        int left = pages;
        while (left > 0)
        {
            int from = rng.Next(pages + 2);
            int expected = from;
            while (expected < pages && taken[expected])
            {
                expected++;
            }

            expected = Math.Min(expected, pages);
            Assert.Equal(expected, set.NextAtOrAfter(from));

            // Take the page found (as a vCPU does) or, sometimes, a random untouched one.
            int page = expected < pages && rng.Next(4) != 0 ? expected : set.NextAtOrAfter(rng.Next(pages));
            if (page == pages)
            {
                page = set.NextAtOrAfter(0);
            }

            Assert.False(taken[page]);
            set.Take(page);
            taken[page] = true;
            left--;
        }

        Assert.Equal(pages, set.NextAtOrAfter(0));
    }
}
