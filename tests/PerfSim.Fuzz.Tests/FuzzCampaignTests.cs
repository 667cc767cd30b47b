using System.Diagnostics;
using System.Globalization;
using System.Text;
using PerfSim.Engine.Inputs;
using Xunit.Abstractions;

namespace PerfSim.Fuzz.Tests;

/// <summary>
/// Seeded mutation of every input file type PerfSim reads, each fed to the command that reads it,
/// in-process, with a time bound per case and the memory a run may plan for capped
/// (<see cref="MemoryEstimate.AssumeAvailable"/>). Every case must end in exit 0 (or 1 where that
/// is a result: a comparison finding a regression, a script that breaks the model) or in exit 2 with one line on standard error and no output
/// or temporary left behind.
/// </summary>
public sealed class FuzzCampaignTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string[] s_small = ["--cpus", "8", "--vcpus", "2", "--ram", "1G", "--guest-memory", "8M", "--threads", "1"];
    private static readonly TimeSpan s_caseBound = TimeSpan.FromMinutes(2);
    private readonly string _dir = Directory.CreateTempSubdirectory("perfsim-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : fallback;

    [Fact]
    public async Task Every_mutated_input_exits_0_or_2_with_one_line_and_no_partial_output()
    {
        int seconds = Setting("PERFSIM_FUZZ_SECONDS", 60);
        int seed = Setting("PERFSIM_FUZZ_SEED", 1);
        var random = new Random(seed);
        InputType[] types = Seeds();
        var counts = types.ToDictionary(t => t.Name, _ => new int[3]);
        var failures = new List<string>();
        foreach (InputType type in types)
        {
            // Each seed is valid as it is: the mutations, not the seed, make the bad inputs.
            string seedFile = Path.Combine(_dir, "unmutated-" + type.FileName);
            await File.WriteAllBytesAsync(seedFile, type.Seed);
            (int code, _, string err) = Cli.Run(type.Args(seedFile, Path.Combine(_dir, "unmutated-out-" + type.Name)));
            Assert.True(code == 0 || (code == 1 && type.MayExit1), $"{type.Name} seed: exit {code}: {err}");
        }

        var clock = Stopwatch.StartNew();
        int cases = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds) && failures.Count < 10)
        {
            InputType type = types[cases++ % types.Length];
            byte[] input = Mutate(type.Seed, random);
            string caseDir = Path.Combine(_dir, $"case-{cases}");
            Directory.CreateDirectory(caseDir);
            string file = Path.Combine(caseDir, type.FileName);
            await File.WriteAllBytesAsync(file, input);
            string output = Path.Combine(caseDir, "out");
            string[] args = type.Args(file, output);

            Task<(int Code, string Out, string Err)> run = Task.Run(() =>
            {
                using IDisposable memory = MemoryEstimate.AssumeAvailable(512L << 20);
                return Cli.Run(args);
            });
            if (await Task.WhenAny(run, Task.Delay(s_caseBound)) != run)
            {
                failures.Add($"{type.Name} case {cases}: no exit within {s_caseBound.TotalSeconds} s: {string.Join(' ', args)}");
                break;
            }

            (int code, _, string err) = await run;
            string? problem = code switch
            {
                0 or 1 when code == 0 || type.MayExit1 => null,
                2 when err.TrimEnd('\n').Split('\n').Length != 1 => "more than one line: " + err,
                2 when err.Contains("   at ", StringComparison.Ordinal) => "a stack trace: " + err,
                2 when Directory.Exists(output) => "exit 2 left an output directory",
                2 => null,
                _ => $"exit {code}: {err}",
            };
            string[] temporaries = [.. Directory.EnumerateFiles(caseDir, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal) || f.EndsWith(".partial", StringComparison.Ordinal))];
            if (temporaries.Length > 0)
            {
                problem ??= "temporaries left: " + string.Join(", ", temporaries);
            }

            if (problem is not null)
            {
                string kept = Path.Combine(Path.GetTempPath(), $"perfsim-fuzz-failure-{seed}-{cases}-{type.FileName}");
                File.Copy(file, kept, overwrite: true);
                failures.Add($"{type.Name} case {cases} ({kept}): {problem}");
            }

            counts[type.Name][Math.Clamp(code, 0, 2)]++;
            Directory.Delete(caseDir, recursive: true);
        }

        log.WriteLine($"seed {seed}, {cases} cases in {clock.Elapsed.TotalSeconds:F0} s; per type: exit 0 / 1 / 2");
        foreach ((string name, int[] c) in counts)
        {
            log.WriteLine($"  {name,-16} {c[0],6} {c[1],6} {c[2],6}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(cases >= types.Length, "the campaign did not reach every input type");
    }

    /// <summary>One input type: a valid seed file and the command that reads it.</summary>
    private sealed record InputType(string Name, string FileName, byte[] Seed, Func<string, string, string[]> Args, bool MayExit1 = false);

    private InputType[] Seeds()
    {
        // Real files of the kinds PerfSim writes, made once by the CLI itself.
        string bundle = Path.Combine(_dir, "seed-run");
        string trace = Path.Combine(_dir, "seed.bin");
        string sweep = Path.Combine(_dir, "seed-sweep");
        Require(Cli.Run(["run", .. s_small, "--out", bundle, "--record", trace]));
        Require(Cli.Run(["sweep", "--vary", "seed=1,2", .. s_small, "--out", sweep]));
        string report = Path.Combine(bundle, "report.json");
        string sweepJson = Path.Combine(sweep, "sweep.json");
        string bdn = Path.Combine(AppContext.BaseDirectory, "bdn-report-full.json");

        return
        [
            new("scenario", "scenario.json", Utf8("""{"scenario": "guest-boot", "strategy": "filemap", "cpus": 8, "vcpus": 2, "ram": "1G", "guest_memory": "8M", "seed": 7, "gbpages": true}"""),
                (f, o) => ["run", "--scenario", f, .. s_small, "--out", o]),
            new("matrix", "matrix.json", Utf8("""{"vary": {"strategy": ["none", "filemap"], "seed": [1, 2]}, "base": {"passes": 1}}"""),
                (f, o) => ["sweep", "--matrix", f, .. s_small, "--out", o]),
            new("cost-profile", "costs.json", Utf8("""{"arch": "x86_64", "ipiSendNs": 1500, "fullFlushNs": 900}"""),
                (f, o) => ["run", "--cost-profile", f, .. s_small, "--out", o]),
            new("e820", "e820.txt", Utf8("[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000003fffffff] usable\n0x40000000 0x4fffffff System RAM\n"),
                (f, _) => ["directmap", "--e820", f, "--script", "/dev/null"]),
            new("meminfo", "meminfo", Utf8("MemTotal: 1048576 kB\nDirectMap4k:      409600 kB\nDirectMap2M:    6291456 kB\nDirectMap1G:    3145728 kB\n"),
                (f, _) => ["directmap", "--meminfo", f, "--script", "/dev/null"]),
            new("script", "script.txt", Utf8("# zap and restore\ninvalid 0x1000 16\naccess 0x1000\ndefault 0x1000 16\nvalid 0x2000 4 1\nfree 0x3000\nfail-alloc 2\n"),
                (f, _) => ["directmap", "--ram", "1G", "--script", f], MayExit1: true), // a script may crash the model on purpose (exit 1)
            new("binary-trace", "trace.bin", File.ReadAllBytes(trace), (f, o) => ["replay", f, .. s_small, "--out", o]),
            new("text-trace", "trace.txt", Utf8("# t cpu kind pfn extra\n0 0 fault 0x0 0\n10 1 populate 0x0 1\n20 0 punch_hole 0 512\n30 0 phase 0 0\n40 1 fault 0x1 2\n"),
                (f, o) => ["replay", f, .. s_small, "--out", o]),
            new("report", "report.json", File.ReadAllBytes(report), (f, o) => ["compare", report, f, "--out", o + ".md"], MayExit1: true),
            new("sweep", "sweep.json", File.ReadAllBytes(sweepJson), (f, o) => ["merge", o, f]),
            new("bdn-json", "bdn-report-full.json", File.ReadAllBytes(bdn), (f, o) => ["compare", bdn, f, "--out", o + ".md"], MayExit1: true),
        ];
    }

    private static void Require((int Code, string Out, string Err) result) => Assert.True(result.Code == 0, result.Err);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>One to four edits of <paramref name="seed"/>: bit flips, byte changes, cuts,
    /// copies, deletions, insertions of structural or control characters or of long digit runs.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        byte[] tokens = "{}[]\",:-0123456789 \n\t\r\0\u001b#x."u8.ToArray();
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 16), bytes.Count - at));
                    break;
                case 4:
                    bytes.Insert(at, tokens[random.Next(tokens.Length)]);
                    break;
                case 5:
                    int length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 6:
                    bytes.InsertRange(at, Encoding.ASCII.GetBytes(new string('9', random.Next(10, 40))));
                    break;
                default:
                    bytes.InsertRange(at, Enumerable.Repeat((byte)'7', random.Next(1, 3) * 5000));
                    break;
            }
        }

        return [.. bytes];
    }
}
