using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace PerfSim.Core.Tests;

/// <summary>The unsafe fence: PerfSim.Core allows unsafe code, but only its Memory/ layer may use it,
/// and no other project allows it at all.</summary>
public sealed partial class UnsafeFenceTests
{
    // The unsafe keyword and pinning, raw native allocation, and the Unsafe/MemoryMarshal calls that
    // bypass type and bounds safety without the keyword. Not stackalloc into a Span (safe C#) nor
    // Unsafe.SizeOf (a sizeof).
    [GeneratedRegex(@"\bunsafe\b|\bfixed\s*\(|\bNativeMemory\.|\bMarshal\.AllocHGlobal|\bUnsafe\.(As|AsRef|Add|Read|Write|AsPointer|Copy|InitBlock|SkipInit|ReadUnaligned|WriteUnaligned)\b|\bMemoryMarshal\.(CreateSpan|GetReference|Cast)\b")]
    private static partial Regex UnsafeCode();

    [Fact]
    public void Unsafe_code_appears_only_in_the_core_memory_layer()
    {
        string root = RepoRoot();
        var offenders = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => !f.Contains(Path.Combine("PerfSim.Core", "Memory"), StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal) && UnsafeCode().IsMatch(line)))
            .ToList();

        Assert.True(offenders.Count == 0, "unsafe code outside PerfSim.Core/Memory: " + string.Join(", ", offenders));
        Assert.True(Directory.EnumerateFiles(Path.Combine(root, "src", "PerfSim.Core", "Memory"), "*.cs").Any(), "the memory layer exists");
    }

    [Fact]
    public void Only_the_core_project_allows_unsafe_blocks()
    {
        string root = RepoRoot();
        var allowing = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Equal(["PerfSim.Core.csproj"], allowing);
    }

    // With CI=true the build is a ContinuousIntegrationBuild: source paths are mapped to /_/, so
    // the caller's path finds nothing there; the test binary's folder lies inside the clone too.
    private static string RepoRoot([CallerFilePath] string thisFile = "") =>
        Above(Path.GetDirectoryName(thisFile)) ?? Above(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"PerfSim.sln not found above {thisFile} nor {AppContext.BaseDirectory}");

    private static string? Above(string? dir)
    {
        while (dir is not null && !File.Exists(Path.Combine(dir, "PerfSim.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir;
    }
}
