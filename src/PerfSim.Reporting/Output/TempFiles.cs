namespace PerfSim.Reporting.Output;

/// <summary>
/// The temporary files this process is writing, so that an interrupted run removes what it
/// created and nothing else. Names are unique per process and write (two runs writing the same
/// target never share a temporary), and a commit (the renames over the targets) runs under one
/// lock that <see cref="Abandon"/> takes too: an interrupt lands before a commit or after it,
/// never inside one.
/// </summary>
public static class TempFiles
{
    private static readonly object s_commit = new();
    private static readonly HashSet<string> s_live = new(StringComparer.Ordinal);

    /// <summary>A new temporary path beside <paramref name="target"/>, dot-prefixed so listings and
    /// globs like <c>*.svg</c> skip a leftover; registered until <see cref="Forget"/>.</summary>
    public static string Beside(string target, string suffix = ".tmp")
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        string full = Path.GetFullPath(target);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}-{Path.GetRandomFileName()}{suffix}");
        lock (s_live)
        {
            s_live.Add(temp);
        }

        return temp;
    }

    /// <summary>The temporary was renamed to its target or deleted.</summary>
    public static void Forget(string temp)
    {
        lock (s_live)
        {
            s_live.Remove(temp);
        }
    }

    /// <summary>Deletes a temporary this process created (best effort) and forgets it.</summary>
    public static void Delete(string temp)
    {
        AtomicFile.TryDelete(temp);
        Forget(temp);
    }

    /// <summary>Runs the renames of a commit; an interrupt waits for them.</summary>
    public static void Commit(Action renames)
    {
        ArgumentNullException.ThrowIfNull(renames);
        lock (s_commit)
        {
            renames();
        }
    }

    /// <summary>For an interrupt: waits for a commit under way, deletes every temporary, and keeps the
    /// commit lock so that nothing is committed afterwards (the process is about to exit). Returns
    /// how many temporaries it removed.</summary>
    public static int Abandon()
    {
        Monitor.Enter(s_commit);
        string[] live;
        lock (s_live)
        {
            live = [.. s_live];
            s_live.Clear();
        }

        foreach (string temp in live)
        {
            AtomicFile.TryDelete(temp);
        }

        return live.Count(t => !File.Exists(t));
    }
}
