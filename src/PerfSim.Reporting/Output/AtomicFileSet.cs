namespace PerfSim.Reporting.Output;

/// <summary>
/// Several files that belong together (report.json, report.md and its charts). <see cref="Commit"/>
/// writes every file to a temporary first and renames only when all were written, so a failure
/// while producing any of them leaves the directory as it was.
/// </summary>
/// <remarks>
/// The renames themselves are not one atomic step: if one fails (which needs the file system to
/// fail between two renames in the same directory), the files already renamed keep their new
/// content and the exception names them.
/// </remarks>
public sealed class AtomicFileSet
{
    private readonly List<(string Name, Action<Stream> Write)> _files = [];

    public IReadOnlyList<string> Names => _files.ConvertAll(f => f.Name);

    /// <summary>Adds a file by name (no directories: everything goes beside report.json).</summary>
    public AtomicFileSet Add(string fileName, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(write);
        if (Path.GetFileName(fileName) != fileName)
        {
            throw new ArgumentException($"\"{fileName}\" must be a plain file name.", nameof(fileName));
        }

        if (_files.Exists(f => string.Equals(f.Name, fileName, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"\"{fileName}\" was added twice.", nameof(fileName));
        }

        _files.Add((fileName, write));
        return this;
    }

    public AtomicFileSet AddText(string fileName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Add(fileName, stream => stream.Write(AtomicFile.Utf8NoBom.GetBytes(text)));
    }

    /// <summary>Whether <paramref name="fileName"/> is one of the files a report bundle writes
    /// (<see cref="ReportBundle"/>: its JSON, Markdown and CSV, and SVG charts): a commit removes
    /// those it does not write again, so a sweep written where a run was leaves none of the run's
    /// charts or report.json behind (or the reverse). Other files are never touched.</summary>
    public static bool IsBundleFile(string fileName) =>
        fileName is ReportBundle.ReportJsonFile or ReportBundle.SweepJsonFile or ReportBundle.MarkdownFile or ReportBundle.CsvFile
        || (fileName.EndsWith(".svg", StringComparison.Ordinal) && !fileName.StartsWith('.'));

    /// <summary>Writes all files into <paramref name="directory"/>, creating it if needed; then
    /// removes the bundle files (<see cref="IsBundleFile"/>) there that this commit did not write.</summary>
    public void Commit(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        bool created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);

        var temps = new List<(string Temp, string Target)>(_files.Count);
        try
        {
            foreach ((string name, Action<Stream> write) in _files)
            {
                string target = Path.Combine(directory, name);
                temps.Add((AtomicFile.WriteTemp(target, write), target));
            }
        }
        catch
        {
            temps.ForEach(t => TempFiles.Delete(t.Temp));
            if (created && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }

            throw;
        }

        var renamed = new List<string>(temps.Count);
        try
        {
            TempFiles.Commit(() =>
            {
                foreach ((string temp, string target) in temps)
                {
                    File.Move(temp, target, overwrite: true);
                    TempFiles.Forget(temp);
                    renamed.Add(target);
                }

                foreach (string stale in Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>().Where(IsBundleFile).Except(Names, StringComparer.Ordinal).ToList())
                {
                    AtomicFile.TryDelete(Path.Combine(directory, stale));
                }
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            temps.Skip(renamed.Count).ToList().ForEach(t => TempFiles.Delete(t.Temp));
            throw new IOException(
                $"Renaming into {directory} failed after replacing {renamed.Count} of {temps.Count} files ({string.Join(", ", renamed.Select(Path.GetFileName))}).",
                ex);
        }
    }
}
