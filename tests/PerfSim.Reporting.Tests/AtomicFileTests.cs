using PerfSim.Reporting.Output;

namespace PerfSim.Reporting.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfsim-atomic-" + Guid.NewGuid().ToString("N"));

    public AtomicFileTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void WriteAllText_creates_and_replaces_the_file_without_leftovers()
    {
        string path = Path.Combine(_directory, "report.json");

        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");

        Assert.Equal("two", File.ReadAllText(path));
        Assert.Equal(["report.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failing_writer_leaves_the_old_content_and_no_temporary_file()
    {
        string path = Path.Combine(_directory, "report.json");
        File.WriteAllText(path, "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.WriteText(path, writer =>
        {
            writer.Write("half a rep");
            writer.Flush();
            throw new InvalidOperationException("renderer failed");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["report.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failing_writer_for_a_new_file_leaves_nothing()
    {
        string path = Path.Combine(_directory, "chart.svg");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException()));

        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    [Fact]
    public void WriteText_uses_utf8_without_bom_and_unix_newlines()
    {
        string path = Path.Combine(_directory, "report.md");

        AtomicFile.WriteText(path, writer => writer.WriteLine("µs"));

        Assert.Equal([0xC2, 0xB5, (byte)'s', (byte)'\n'], File.ReadAllBytes(path));
    }

    [Fact]
    public void File_set_commits_all_files_together()
    {
        string output = Path.Combine(_directory, "out");

        new AtomicFileSet().AddText("report.json", "{}").AddText("report.md", "# r").Commit(output);

        Assert.Equal(["report.json", "report.md"], Directory.GetFiles(output).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void File_set_failure_leaves_an_existing_directory_untouched()
    {
        File.WriteAllText(Path.Combine(_directory, "report.json"), "old");
        AtomicFileSet set = new AtomicFileSet()
            .AddText("report.json", "new")
            .AddText("latency.svg", "<svg/>")
            .Add("direct-map.svg", _ => throw new IOException("disk full"));

        Assert.Throws<IOException>(() => set.Commit(_directory));

        Assert.Equal(["report.json"], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName));
        Assert.Equal("old", File.ReadAllText(Path.Combine(_directory, "report.json")));
    }

    [Fact]
    public void File_set_failure_removes_a_directory_it_created()
    {
        string output = Path.Combine(_directory, "new-run");
        AtomicFileSet set = new AtomicFileSet().AddText("report.json", "{}").Add("x.svg", _ => throw new IOException());

        Assert.Throws<IOException>(() => set.Commit(output));

        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void File_set_rejects_paths_and_duplicates()
    {
        var set = new AtomicFileSet().AddText("a.svg", "");

        Assert.Throws<ArgumentException>(() => set.AddText("a.svg", ""));
        Assert.Throws<ArgumentException>(() => set.AddText(Path.Combine("sub", "b.svg"), ""));
    }
}
