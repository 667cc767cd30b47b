using System.Runtime.InteropServices;
using PerfSim.Reporting.Output;

namespace PerfSim.Cli.Commands;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM: stop at once, remove this process's temporary files, leave every
/// earlier output as it was (a commit under way finishes first, none starts after), print one
/// line and exit 130 or 143 (128 + the signal number, as shells report it).
/// </summary>
/// <remarks>The simulation is not unwound: its state is in memory only, and what it would have
/// written exists only as temporaries (<see cref="TempFiles"/>), so exiting from the handler loses
/// nothing. Installed by the process entry point only: in-process test hosts keep their signals.</remarks>
internal static class Interrupts
{
    public const int SigInt = 130;
    public const int SigTerm = 143;

    public static IDisposable Install(TextWriter stderr)
    {
        PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Exit(c, "SIGINT", SigInt, stderr));
        PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Exit(c, "SIGTERM", SigTerm, stderr));
        return new Registrations(sigint, sigterm);
    }

    private static void Exit(PosixSignalContext context, string name, int code, TextWriter stderr)
    {
        context.Cancel = true;
        int removed = TempFiles.Abandon();
        stderr.WriteLine($"perfsim: interrupted by {name}; stopped, {removed} temporary file(s) removed, earlier outputs left as they were");
        stderr.Flush();
        Environment.Exit(code);
    }

    private sealed class Registrations(params IDisposable[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable r in registrations)
            {
                r.Dispose();
            }
        }
    }
}
