using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PerfSim.Reporting.Input;

/// <summary>The kinds of file PerfSim reads; each has its limits (<see cref="InputFiles.LimitsOf"/>).</summary>
public enum InputKind
{
    Scenario,
    Matrix,
    CostProfile,
    E820,
    Meminfo,
    Script,
    Report,
    Trace,
}

/// <summary>What a kind of input may hold: <paramref name="MaxBytes"/> in all and
/// <paramref name="MaxLineChars"/> per line (0: lines are not limited apart from the size).</summary>
public sealed record InputLimits(string What, long MaxBytes, int MaxLineChars);

/// <summary>
/// The one way PerfSim opens an input file: <c>-</c> is standard input; a directory, a FIFO, a
/// block device or a socket is refused by name (a FIFO would block the open); a file over its
/// kind's size is refused before a byte is read, and one that grows past it while being read (a
/// character device such as <c>/dev/zero</c>, or standard input) as soon as it does; text lines
/// are limited too. The
/// limits are in docs/limits.md. Every refusal is an <see cref="InputException"/> naming the file.
/// </summary>
public static class InputFiles
{
    /// <summary>How <c>-</c> is named in messages.</summary>
    public const string StandardInputName = "<stdin>";

    private static readonly AsyncLocal<StandardInput?> s_stdin = new();

    /// <summary>The limits of <paramref name="kind"/>.</summary>
    public static InputLimits LimitsOf(InputKind kind) => kind switch
    {
        InputKind.Scenario => new("scenario file", 1 << 20, 64 << 10),
        InputKind.Matrix => new("matrix file", 1 << 20, 64 << 10),
        InputKind.CostProfile => new("cost profile", 1 << 20, 64 << 10),
        InputKind.E820 => new("firmware memory map (e820)", 1 << 20, 4096),
        InputKind.Meminfo => new("meminfo file", 1 << 20, 4096),
        InputKind.Script => new("direct-map script", 64 << 20, 4096),
        InputKind.Report => new("report, sweep or BenchmarkDotNet file", 256 << 20, 0),
        _ => new("trace", 64L << 30, 4096),
    };

    /// <summary>Name of <paramref name="path"/> in messages.</summary>
    public static string NameOf(string path) => path == "-" ? StandardInputName : path;

    /// <summary>Makes <c>-</c> read <paramref name="open"/>'s stream (once) in this flow of execution,
    /// until the returned scope is disposed. Without a scope, <c>-</c> is the process's standard input.</summary>
    public static IDisposable UseStandardInput(Func<Stream> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        StandardInput? previous = s_stdin.Value;
        s_stdin.Value = new StandardInput(open);
        return new Scope(() => s_stdin.Value = previous);
    }

    /// <summary>The whole file as UTF-8 text, within the limits of <paramref name="kind"/>.</summary>
    public static string ReadText(string path, InputKind kind)
    {
        byte[] bytes = ReadBytes(path, kind);
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InputException($"{NameOf(path)}: not UTF-8 text (a {LimitsOf(kind).What} is text)");
        }

        CheckLines(text, path, kind);
        return text;
    }

    /// <summary>The whole file, within the size limit of <paramref name="kind"/>.</summary>
    public static byte[] ReadBytes(string path, InputKind kind)
    {
        InputLimits limits = LimitsOf(kind);
        using Stream stream = OpenRead(path, kind);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        int n;
        while ((n = Read(stream, chunk, path)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limits.MaxBytes)
            {
                throw TooBig(path, limits, buffer.Length);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Opens the file for streaming (traces): checked as <see cref="ReadBytes"/> does, the
    /// returned stream refuses to read past the size limit.</summary>
    public static Stream OpenRead(string path, InputKind kind)
    {
        ArgumentNullException.ThrowIfNull(path);
        InputLimits limits = LimitsOf(kind);
        if (path == "-")
        {
            StandardInput stdin = s_stdin.Value ?? s_processStdin;
            return new LimitedStream(stdin.Take(), path, limits);
        }

        if (path.Length == 0)
        {
            throw new InputException($"an empty file name where a {limits.What} is expected");
        }

        if (Directory.Exists(path))
        {
            throw new InputException($"{path}: is a directory; a {limits.What} is expected here");
        }

        if (!File.Exists(path))
        {
            throw new InputException($"{path}: file not found");
        }

        if (NonRegularKind(path) is { } special)
        {
            throw new InputException($"{path}: is {special}, not a regular file; a {limits.What} is read from a file or from standard input (-)");
        }

        long length = new FileInfo(path).Length;
        if (length > limits.MaxBytes)
        {
            throw TooBig(path, limits, length, exact: true);
        }

        try
        {
            return new LimitedStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), path, limits);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InputException($"{path}: cannot read: {e.Message}");
        }
    }

    private static readonly StandardInput s_processStdin = new(Console.OpenStandardInput);

    private static int Read(Stream stream, byte[] chunk, string path)
    {
        try
        {
            return stream.Read(chunk);
        }
        catch (IOException e)
        {
            throw new InputException($"{NameOf(path)}: cannot read: {e.Message}");
        }
    }

    private static void CheckLines(string text, string path, InputKind kind)
    {
        InputLimits limits = LimitsOf(kind);
        if (limits.MaxLineChars == 0)
        {
            return;
        }

        int line = 1;
        int start = 0;
        while (start <= text.Length)
        {
            int end = text.IndexOf('\n', start);
            int length = (end < 0 ? text.Length : end) - start;
            if (length > limits.MaxLineChars)
            {
                throw new InputException(string.Create(CultureInfo.InvariantCulture,
                    $"{NameOf(path)}:{line}: a line of {length} characters; a {limits.What} allows at most {limits.MaxLineChars} per line (docs/limits.md)"));
            }

            if (end < 0)
            {
                break;
            }

            start = end + 1;
            line++;
        }
    }

    private static InputException TooBig(string path, InputLimits limits, long seen, bool exact = false) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"{NameOf(path)}: {(exact ? $"{seen} bytes" : $"more than {limits.MaxBytes} bytes")}; a {limits.What} may hold at most {limits.MaxBytes} bytes (docs/limits.md)"));

    /// <summary>"a FIFO", "a socket", ... for what cannot be read as a file; null for a regular
    /// file or a character device (or where the type cannot be told: the size limit still holds).</summary>
    private static string? NonRegularKind(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // statx(2)'s layout is the same on every Linux architecture: stx_mode is the u16 at byte 28.
        byte[] buffer = new byte[256];
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        const int AtFdCwd = -100;
        const uint StatxType = 0x1;
        if (NativeMethods.statx(AtFdCwd, name, 0, StatxType, buffer) != 0)
        {
            return null;
        }

        int type = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        // Character devices are read (the size limit stops /dev/zero; /dev/null is an empty file).
        return type switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null,
        };
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which is off outside PerfSim.Core.
        internal static extern int statx(int dirfd, byte[] pathname, int flags, uint mask, byte[] statxbuf);
#pragma warning restore SYSLIB1054
    }

    /// <summary>Standard input, which can be read once.</summary>
    private sealed class StandardInput(Func<Stream> open)
    {
        private int _taken;

        public Stream Take() => Interlocked.Exchange(ref _taken, 1) == 0
            ? open()
            : throw new InputException("- (standard input) is given twice; it can be read once");
    }

    private sealed class Scope(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    /// <summary>Reads through to the inner stream and refuses to go past the limit.</summary>
    private sealed class LimitedStream(Stream inner, string path, InputLimits limits) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            return Count(n);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            _read += n;
            return _read > limits.MaxBytes ? throw TooBig(path, limits, _read) : n;
        }
    }
}
