using PerfSim.Reporting.Input;
using PerfSim.Reporting.Rendering;
using PerfSim.Reporting.Sweeps;

namespace PerfSim.Reporting.Tests;

public sealed class SweepTests
{
    [Fact]
    public void Keys_follow_matrix_order_with_the_last_axis_fastest()
    {
        string[] keys = SweepKey.All(CannedSweep.Full().Matrix).ToArray();

        Assert.Equal(8, keys.Length);
        Assert.Equal("arch=x86_64,cpus=1,strategy=direct-map", keys[0]);
        Assert.Equal("arch=x86_64,cpus=1,strategy=per-folio", keys[1]);
        Assert.Equal("arch=x86_64,cpus=64,strategy=per-folio", keys[7]);
    }

    [Fact]
    public void Merging_shards_gives_exactly_the_unsharded_sweep()
    {
        string unsharded = SweepJson.Serialize(CannedSweep.Full());
        // Shards go through their JSON form, as they would between machines, and arrive out of order.
        SweepReport[] shards = CannedSweep.Shards(3).Select(s => SweepJson.Parse(SweepJson.Serialize(s))).Reverse().ToArray();

        SweepReport merged = SweepMerge.Merge(shards);

        Assert.Equal(unsharded, SweepJson.Serialize(merged));
        Assert.Null(merged.Shard);
        Assert.Equal(Enumerable.Range(0, 8), merged.Runs.Select(r => r.Ordinal));
    }

    [Fact]
    public void Merge_reports_a_missing_run_with_its_key()
    {
        SweepReport[] shards = CannedSweep.Shards(2);
        shards[1] = shards[1] with { Runs = shards[1].Runs.Where(r => r.Ordinal != 3).ToArray() };

        InputException ex = Assert.Throws<InputException>(() => SweepMerge.Merge(shards, ["s0.json", "s1.json"]));

        Assert.Equal(
            "sweep merge: $.runs: found 7 of 8 runs, expected every run of the matrix; missing ordinal(s) 3 (arch=x86_64,cpus=4,strategy=per-folio)",
            ex.Message);
    }

    [Fact]
    public void Merge_rejects_a_run_present_in_two_shards()
    {
        SweepReport[] shards = CannedSweep.Shards(2);
        shards[1] = shards[1] with { Runs = [.. shards[1].Runs, shards[0].Runs[0]] };

        InputException ex = Assert.Throws<InputException>(() => SweepMerge.Merge(shards, ["s0.json", "s1.json"]));

        Assert.Equal(
            "s1.json: $.runs[4].ordinal: found 0 (arch=x86_64,cpus=1,strategy=direct-map), also in s0.json, expected each run in exactly one shard",
            ex.Message);
    }

    [Fact]
    public void Merge_rejects_shards_of_different_matrices()
    {
        SweepReport[] shards = CannedSweep.Shards(2);
        shards[1] = shards[1] with { Matrix = [.. shards[1].Matrix.Take(2), new MatrixAxis("strategy", ["per-folio", "direct-map"])] };

        InputException ex = Assert.Throws<InputException>(() => SweepMerge.Merge(shards, ["s0.json", "s1.json"]));

        Assert.StartsWith("s1.json: $.matrix: found a matrix different from s0.json's", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_rejects_a_shard_given_twice()
    {
        SweepReport[] shards = CannedSweep.Shards(2);

        InputException ex = Assert.Throws<InputException>(() => SweepMerge.Merge([shards[0], shards[0] with { Runs = [] }], ["a.json", "b.json"]));

        Assert.StartsWith("b.json: $.shard.index: found 0, also in a.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merged_shard_files_read_from_disk_equal_the_unsharded_sweep()
    {
        string directory = Path.Combine(Path.GetTempPath(), "perfsim-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string[] paths = CannedSweep.Shards(2).Select((s, i) =>
            {
                string path = Path.Combine(directory, $"shard-{i}.json");
                File.WriteAllText(path, SweepJson.Serialize(s));
                return path;
            }).ToArray();

            Assert.Equal(SweepJson.Serialize(CannedSweep.Full()), SweepJson.Serialize(SweepMerge.MergeFiles(paths)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Reading_rejects_an_ordinal_that_does_not_match_the_key()
    {
        string json = SweepJson.Serialize(CannedSweep.Full()).Replace("\"ordinal\": 5,", "\"ordinal\": 4,", StringComparison.Ordinal);

        InputException ex = Assert.Throws<InputException>(() => SweepJson.Parse(json));

        Assert.Equal("sweep.json: $.runs[5].ordinal: found 4, expected 5 (the position of arch=x86_64,cpus=16,strategy=per-folio in the matrix)", ex.Message);
    }

    [Fact]
    public void Reading_rejects_a_key_outside_the_matrix()
    {
        string json = SweepJson.Serialize(CannedSweep.Full()).Replace("cpus=64,strategy=per-folio\"", "cpus=128,strategy=per-folio\"", StringComparison.Ordinal);

        InputException ex = Assert.Throws<InputException>(() => SweepJson.Parse(json));

        Assert.StartsWith("sweep.json: $.runs[7].key: found \"arch=x86_64,cpus=128,strategy=per-folio\" (a string), expected a key of this matrix", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_rejects_errors_inside_an_embedded_report_with_the_full_path()
    {
        string json = SweepJson.Serialize(CannedSweep.Full()).Replace("\"oops\": 0,", "\"oops\": \"none\",", StringComparison.Ordinal);

        InputException ex = Assert.Throws<InputException>(() => SweepJson.Parse(json));

        Assert.Equal("sweep.json: $.runs[0].report.counters.oops: found \"none\" (a string), expected a non-negative integer", ex.Message);
    }

    [Fact]
    public void Csv_has_one_row_per_run_with_the_varied_keys_as_columns()
    {
        string[] lines = SweepRenderer.Csv(CannedSweep.Full()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(9, lines.Length);
        Assert.StartsWith("ordinal,arch,cpus,strategy,scenario,vcpus,guest_memory,ram,seed,faults,fault_p50,", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("7,x86_64,64,per-folio,gmem-fault,2,1073741824,17179869184,42,262144,3560,", lines[8], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.Equal(lines[0].Count(c => c == ','), l.Count(c => c == ',')));
    }

    [Fact]
    public void Text_table_lists_every_run()
    {
        string text = SweepRenderer.Render(CannedSweep.Full(), ConsoleFormat.Text);

        Assert.Equal(10, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("per-folio", text, StringComparison.Ordinal);
    }
}
