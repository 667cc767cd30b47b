using System.Text;

namespace PerfSim.Reporting.Output;

/// <summary>
/// Writes files so that readers see either the old content or the complete new content, never a
/// partial file: the data goes to a temporary file in the same directory (same file system, so
/// the rename is atomic), is flushed to disk, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    internal static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream => stream.Write(Utf8NoBom.GetBytes(text)));
    }

    /// <summary>Writes through <paramref name="write"/>; if it throws, the target is untouched.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temp = WriteTemp(path, write);
        try
        {
            TempFiles.Commit(() => File.Move(temp, path, overwrite: true));
        }
        finally
        {
            TempFiles.Delete(temp);
        }
    }

    /// <summary>Writes a text file through a <see cref="TextWriter"/> (UTF-8, no BOM, "\n").</summary>
    public static void WriteText(string path, Action<TextWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 16 * 1024, leaveOpen: true) { NewLine = "\n" };
            write(writer);
        });
    }

    /// <summary>Writes <paramref name="path"/>'s content to a new temporary file beside it and returns its path.</summary>
    internal static string WriteTemp(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string temp = TempFiles.Beside(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            return temp;
        }
        catch
        {
            TempFiles.Delete(temp);
            throw;
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original failure is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
