using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Output;

/// <summary>
/// Checks an output path before any work is done, so that a run of an hour does not end in
/// "cannot write": the path is not empty, a directory is not a file (or the reverse), no part of
/// the path is a file, and the directory that will hold the output accepts a new file (probed
/// by creating and deleting one). Failures are one-line <see cref="InputException"/>s naming the
/// option.
/// </summary>
public static class OutputTarget
{
    /// <summary>A directory that will be created if needed and filled (<c>--out DIR</c>).</summary>
    public static void CheckDirectory(string path, string option)
    {
        ArgumentNullException.ThrowIfNull(option);
        string full = FullPath(path, option);
        if (File.Exists(full))
        {
            throw new InputException($"{option}: '{path}' is a file; a directory is expected (it receives several files)");
        }

        ProbeWritable(NearestExistingDirectory(full, path, option), path, option);
    }

    /// <summary>A file that will be replaced whole (<c>--record FILE</c>, <c>compare --out FILE</c>);
    /// its directory must exist.</summary>
    public static void CheckFile(string path, string option)
    {
        ArgumentNullException.ThrowIfNull(option);
        string full = FullPath(path, option);
        if (Directory.Exists(full))
        {
            throw new InputException($"{option}: '{path}' is a directory; a file name is expected");
        }

        string parent = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(parent))
        {
            string existing = NearestExistingDirectory(parent, path, option);
            throw new InputException($"{option}: cannot write '{path}': directory '{parent}' does not exist (the nearest existing one is '{existing}')");
        }

        ProbeWritable(parent, path, option);
    }

    private static string FullPath(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException($"{option}: an empty path; give a file or directory name");
        }

        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InputException($"{option}: '{path}' is not a usable path: {e.Message}");
        }
    }

    /// <summary>The deepest existing ancestor (or <paramref name="full"/> itself); refuses a file on the way.</summary>
    private static string NearestExistingDirectory(string full, string path, string option)
    {
        string? current = full;
        while (current is not null && !Directory.Exists(current))
        {
            if (File.Exists(current))
            {
                throw new InputException($"{option}: cannot write '{path}': '{current}' is a file, not a directory");
            }

            current = Path.GetDirectoryName(current);
        }

        return current ?? throw new InputException($"{option}: cannot write '{path}': no part of it exists");
    }

    private static void ProbeWritable(string directory, string path, string option)
    {
        string probe = Path.Combine(directory, $".perfsim-probe.{Environment.ProcessId}.{Path.GetRandomFileName()}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InputException($"{option}: cannot write '{path}': '{directory}' does not accept new files ({e.Message})");
        }
    }
}
