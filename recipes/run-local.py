#!/usr/bin/env python3
"""Runs the recipes of this directory for real on one machine and checks what they produce.

Each recipe's shards run as separate OS processes, in parallel, with the environment its scheduler
gives them, then the recipe's merge; the merged sweep.json must equal an unsharded sweep's except
each run's two wall-clock figures (README, "Sweeps and comparisons"). The commands come from the
recipe files themselves, not from a copy here:

  ci          recipes/github-actions/perfsim-sweep.yml: every job, in `needs` order, matrix jobs in
              parallel; each `run:` step through bash with GitHub's ${{ }} expressions substituted;
              checkout, setup-dotnet, upload-artifact and download-artifact emulated on local dirs.
  slurm       recipes/slurm/submit.sh itself, with a stand-in `sbatch` on PATH that runs an array's
              tasks as parallel processes (SLURM_ARRAY_TASK_ID, ...) and honours afterok.
  kubernetes  recipes/kubernetes/{shards,merge}-job.yaml: each Job's container command and env,
              JOB_COMPLETION_INDEX per index, `parallelism` pods at once, volumes as local dirs
              (the image: perfsim packed and installed the README's way, sweep-shard.sh on PATH).

Usage: recipes/run-local.py [--matrix FILE] [--reference SWEEP_JSON] [--work DIR] [RECIPE...]
Needs python3 with PyYAML, bash and the .NET SDK. Exit 0 when every recipe's merge equals the
reference, 1 otherwise.
"""

import argparse
import concurrent.futures
import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
RECIPES = os.path.join(REPO, "recipes")
DEFAULT_MATRIX = "perf-reports/design-comparison/matrix.json"


def log(message):
    print(f"run-local: {message}", file=sys.stderr, flush=True)


def run_logged(args, log_path, **kwargs):
    """Runs one process with its output in log_path; returns (exit code, wall seconds)."""
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as out:
        code = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False, **kwargs).returncode
    return code, time.monotonic() - start


def fail(message, log_path=None):
    if log_path and os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            sys.stderr.write("".join(f.readlines()[-20:]))
    raise RuntimeError(message)


def install_perfsim(work, tool_dir):
    """The README's install path: dotnet pack, then dotnet tool install from the local package."""
    package = os.path.join(work, "package")
    for args in (["dotnet", "pack", "src/PerfSim.Cli", "-c", "Release", "-o", package, "-v", "q", "-nologo"],
                 ["dotnet", "tool", "install", "PerfSim.Cli", "--tool-path", tool_dir, "--add-source", package]):
        code, _ = run_logged(args, os.path.join(work, "install.log"), cwd=REPO)
        if code != 0:
            fail(f"{' '.join(args[:3])} failed", os.path.join(work, "install.log"))


def without_wall(sweep):
    """sweep.json minus the figures that measure the host, not the model."""
    sweep = copy.deepcopy(sweep)
    for run in sweep["runs"]:
        run["report"]["wall"]["seconds"] = 0
        run["report"]["wall"]["faults_per_wall_second"] = 0
    return sweep


def check_merged(merged_path, reference_path):
    """None when merged equals the reference except the wall-clock figures, else what differs."""
    with open(merged_path, encoding="utf-8") as f:
        merged = json.load(f)
    with open(reference_path, encoding="utf-8") as f:
        reference = json.load(f)
    if "shard" in merged:
        return "the merged sweep.json still carries a shard marker"
    if len(merged["runs"]) != len(reference["runs"]):
        return f"{len(merged['runs'])} runs, the reference has {len(reference['runs'])}"
    a, b = without_wall(merged), without_wall(reference)
    if a == b:
        return None
    if a["matrix"] != b["matrix"]:
        return "the matrices differ"
    bad = [r["key"] for r, s in zip(a["runs"], b["runs"]) if r != s]
    return f"{len(bad)} runs differ beyond the wall-clock figures, first {bad[0]}"


# ---------------------------------------------------------------- GitHub Actions ----------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def evaluate(expression, contexts):
    """The subset of GitHub's expression language the workflow uses: a || b, 'text', a.b.c."""
    terms = [t.strip() for t in expression.split("||")]
    for number, term in enumerate(terms):
        if len(term) >= 2 and term[0] == term[-1] == "'":
            value = term[1:-1]
        else:
            value = contexts
            for part in term.split("."):
                if not isinstance(value, dict) or part not in value:
                    raise RuntimeError(f"ci: expression '{expression}': unknown '{term}'")
                value = value[part]
        if isinstance(value, bool):
            value = str(value).lower()
        # `a || b` falls through a falsy a (GitHub: '', 0, false, null); the last term is the value.
        if number == len(terms) - 1 or value not in ("", 0, "false", None):
            return "" if value is None else str(value)
    return ""


def substitute(text, contexts):
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), contexts), str(text))


def checkout(workspace):
    """A fresh checkout: the repository's files as they are here (tracked, modified or new and not
    ignored), copied, so the job builds from a clean tree of its own as on a runner."""
    listed = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = os.path.join(REPO, relative)
        if os.path.isfile(source):  # a tracked file deleted here is not part of the tree
            os.makedirs(os.path.dirname(os.path.join(workspace, relative)), exist_ok=True)
            shutil.copy2(source, os.path.join(workspace, relative))


def run_ci_job(name, job, instance, contexts, work, artifacts, workflow_env):
    """One job (one matrix combination): its steps in order in a fresh workspace."""
    label = name if not instance else f"{name}-{'-'.join(str(v) for v in instance.values())}"
    workspace = os.path.join(work, "jobs", label)
    runner_temp = os.path.join(work, "temp", label)
    os.makedirs(workspace)
    os.makedirs(runner_temp)
    path_file = os.path.join(runner_temp, "github_path")
    open(path_file, "w", encoding="utf-8").close()
    contexts = dict(contexts, matrix=instance, runner={"temp": runner_temp},
                    github={"workspace": workspace})
    env = dict(os.environ, CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=workspace,
               RUNNER_TEMP=runner_temp, GITHUB_PATH=path_file)
    env.update(workflow_env)
    env.update({k: substitute(v, contexts) for k, v in (job.get("env") or {}).items()})
    log_path = os.path.join(work, f"{label}.log")
    step_seconds = 0.0  # the shard or merge step alone, without the install steps
    for number, step in enumerate(job["steps"]):
        with_ = {k: substitute(v, contexts) for k, v in (step.get("with") or {}).items()}
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            checkout(workspace)
        elif uses.startswith("actions/setup-dotnet@"):
            if shutil.which("dotnet") is None:
                fail("ci: setup-dotnet: no dotnet on PATH here")
        elif uses.startswith("actions/upload-artifact@"):
            target = os.path.join(artifacts, with_["name"])
            if os.path.exists(target):
                fail(f"ci: {label}: artifact '{with_['name']}' uploaded twice")
            shutil.copytree(os.path.join(workspace, with_["path"]), target)
        elif uses.startswith("actions/download-artifact@"):
            dest = os.path.join(workspace, with_.get("path", "."))
            if "name" in with_:
                shutil.copytree(os.path.join(artifacts, with_["name"]), dest, dirs_exist_ok=True)
            else:
                pattern = re.compile(with_["pattern"].replace("*", ".*") + "$")
                for artifact in sorted(os.listdir(artifacts)):
                    if pattern.match(artifact):
                        shutil.copytree(os.path.join(artifacts, artifact), os.path.join(dest, artifact))
        elif "run" in step:
            script = os.path.join(runner_temp, f"step{number}.sh")
            with open(script, "w", encoding="utf-8") as f:
                f.write(substitute(step["run"], contexts))
            step_env = dict(env)
            step_env.update({k: substitute(v, contexts) for k, v in (step.get("env") or {}).items()})
            with open(path_file, encoding="utf-8") as f:
                added = [line.strip() for line in f if line.strip()]
            step_env["PATH"] = os.pathsep.join(list(reversed(added)) + [env["PATH"]])
            code, seconds = run_logged(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                                       log_path, cwd=workspace, env=step_env)
            if code != 0:
                fail(f"ci: job {label}, step {step.get('id', number)}: exit {code}", log_path)
            if step.get("id") in ("shard", "merge"):
                step_seconds = seconds
        else:
            fail(f"ci: job {label}: step {number} ({uses or step}) is not emulated here")
    return label, step_seconds


def recipe_ci(work, matrix, report):
    with open(os.path.join(RECIPES, "github-actions", "perfsim-sweep.yml"), encoding="utf-8") as f:
        workflow = yaml.safe_load(f)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    inputs = {k: v.get("default", "") for k, v in (triggers["workflow_dispatch"].get("inputs") or {}).items()}
    inputs["matrix"] = matrix  # as `gh workflow run perfsim-sweep.yml -f matrix=...`
    artifacts = os.path.join(work, "artifacts")
    os.makedirs(artifacts)
    base = {"inputs": inputs, "env": {}}
    workflow_env = {k: substitute(v, base) for k, v in (workflow.get("env") or {}).items()}
    base["env"] = workflow_env
    done = set()
    jobs = workflow["jobs"]
    while len(done) < len(jobs):
        ready = [n for n, j in jobs.items() if n not in done
                 and set(j.get("needs") if isinstance(j.get("needs"), list) else [j["needs"]] if j.get("needs") else []) <= done]
        for name in ready:
            job = jobs[name]
            axes = (job.get("strategy") or {}).get("matrix") or {}
            if any(k in axes for k in ("include", "exclude")):
                fail(f"ci: job {name}: matrix include/exclude is not emulated here")
            instances = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else [{}]
            start = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(instances)) as pool:
                futures = [pool.submit(run_ci_job, name, job, instance,
                                       dict(base, strategy={"job-index": i, "job-total": len(instances)}),
                                       work, artifacts, workflow_env)
                           for i, instance in enumerate(instances)]
                results = [future.result() for future in futures]
            report.append(f"ci job {name}: {len(instances)} job(s) in parallel, "
                          f"{time.monotonic() - start:.1f} s wall"
                          + (f" (step itself {max(s for _, s in results):.1f} s)" if any(s for _, s in results) else ""))
            done.add(name)
    shards = sorted(os.listdir(artifacts))
    return os.path.join(artifacts, "perfsim-sweep", "sweep.json"), [os.path.join(artifacts, s) for s in shards if s.startswith("shard-")]


# ---------------------------------------------------------------- Slurm -------------------

def fake_sbatch(argv):
    """A stand-in for sbatch: runs the job at once (an array's tasks as parallel processes) and
    returns when it is done; afterok dependencies on a failed job leave the job unrun."""
    state = os.environ["FAKE_SLURM_STATE"]
    options, script, args = {}, None, []
    for i, arg in enumerate(argv):
        if script is None and arg.startswith("--"):
            key, _, value = arg[2:].partition("=")
            options[key] = value
        elif script is None:
            script, args = arg, argv[i + 1:]
            break
    with open(script, encoding="utf-8") as f:
        directives = dict(re.findall(r"^#SBATCH --([\w-]+)=?(\S*)", f.read(), re.M))
    directives.update(options)
    job_id = str(len(os.listdir(state)) + 1000)
    os.makedirs(os.path.join(state, job_id))
    if "dependency" in directives:
        kind, *ids = directives["dependency"].split(":")
        if kind != "afterok":
            sys.exit(f"sbatch (stand-in): only afterok dependencies are emulated, got {kind}")
        if any(open(os.path.join(state, d, "rc"), encoding="utf-8").read() != "0" for d in ids):
            open(os.path.join(state, job_id, "rc"), "w", encoding="utf-8").write("never")
            print(job_id if "parsable" in options else f"Submitted batch job {job_id}")
            return 0
    spool = os.path.join(state, job_id, "spool.sh")  # slurmd runs a copy, not the file itself
    shutil.copy(script, spool)
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", directives.get("array", "")) if "array" in directives else None
    if "array" in directives and not match:
        sys.exit(f"sbatch (stand-in): --array={directives['array']}: only A or A-B is emulated")
    tasks = list(range(int(match.group(1)), int(match.group(2) or match.group(1)) + 1)) if match else [None]
    env = dict(os.environ, SLURM_JOB_ID=job_id, SLURM_SUBMIT_DIR=os.getcwd(),
               SLURM_CPUS_PER_TASK=directives.get("cpus-per-task", "1"))
    processes, start = [], time.monotonic()
    for task in tasks:
        task_env = dict(env)
        if task is not None:
            task_env.update(SLURM_ARRAY_JOB_ID=job_id, SLURM_ARRAY_TASK_ID=str(task),
                            SLURM_ARRAY_TASK_COUNT=str(len(tasks)), SLURM_ARRAY_TASK_MIN=str(tasks[0]),
                            SLURM_ARRAY_TASK_MAX=str(tasks[-1]))
        pattern = directives.get("output", "slurm-%A_%a.out" if task is not None else "slurm-%j.out")
        output = (pattern.replace("%A", job_id).replace("%a", str(task)).replace("%j", job_id))
        with open(output, "w", encoding="utf-8") as out:
            processes.append(subprocess.Popen(["bash", spool, *args], stdout=out, stderr=subprocess.STDOUT,
                                              env=task_env))
    codes = [p.wait() for p in processes]
    with open(os.path.join(state, job_id, "seconds"), "w", encoding="utf-8") as f:
        f.write(f"{time.monotonic() - start:.1f} {os.path.basename(script)} {len(tasks)}")
    with open(os.path.join(state, job_id, "rc"), "w", encoding="utf-8") as f:
        f.write(str(max(codes)))
    print(job_id if "parsable" in options else f"Submitted batch job {job_id}")
    return 0


def recipe_slurm(work, matrix, report):
    bin_dir, state = os.path.join(work, "bin"), os.path.join(work, "state")
    os.makedirs(bin_dir)
    os.makedirs(state)
    with open(os.path.join(bin_dir, "sbatch"), "w", encoding="utf-8") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" "{os.path.abspath(__file__)}" --fake-sbatch "$@"\n')
    os.chmod(os.path.join(bin_dir, "sbatch"), 0o755)
    sweep_dir = os.path.join(work, "sweep")
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], FAKE_SLURM_STATE=state,
               MATRIX=os.path.join(REPO, matrix))
    env.pop("SHARDS", None)  # submit.sh's own default
    code, _ = run_logged(["bash", os.path.join(RECIPES, "slurm", "submit.sh"), sweep_dir],
                         os.path.join(work, "submit.log"), env=env)
    if code != 0:
        fail(f"slurm: submit.sh exit {code}", os.path.join(work, "submit.log"))
    for job_id in sorted(os.listdir(state)):
        with open(os.path.join(state, job_id, "rc"), encoding="utf-8") as f:
            rc = f.read()
        if rc != "0":
            fail(f"slurm: job {job_id}: {rc}", os.path.join(sweep_dir, "logs", "merge.out"))
        with open(os.path.join(state, job_id, "seconds"), encoding="utf-8") as f:
            seconds, script, tasks = f.read().split()
        report.append(f"slurm job {job_id} ({script}): {tasks} task process(es) in parallel, {seconds} s wall")
    shards = sorted(d for d in os.listdir(sweep_dir) if d.startswith("shard-"))
    return os.path.join(sweep_dir, "merged", "sweep.json"), [os.path.join(sweep_dir, s) for s in shards]


# ---------------------------------------------------------------- Kubernetes --------------

KUBE_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def kube_expand(text, env):
    """The kubelet's $(VAR) expansion of env values, command and args ($$ is a literal $)."""
    return KUBE_VAR.sub(lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), text)


def run_kube_job(job, work, volumes, image_path, report):
    spec, name = job["spec"], job["metadata"]["name"]
    pod = spec["template"]["spec"]
    if pod.get("initContainers") or len(pod["containers"]) != 1:
        fail(f"kubernetes: job {name}: only one container and no initContainers are emulated")
    container = pod["containers"][0]
    mounts = {}
    for mount in container.get("volumeMounts", []):
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        if "persistentVolumeClaim" in volume:
            mounts[mount["mountPath"]] = volumes[volume["persistentVolumeClaim"]["claimName"]]
        elif "configMap" in volume:
            mounts[mount["mountPath"]] = volumes["configmap/" + volume["configMap"]["name"]]
        else:
            fail(f"kubernetes: job {name}: volume {volume['name']}: only PVCs and ConfigMaps are emulated")
    indexed = spec.get("completionMode") == "Indexed"
    completions, parallelism = spec.get("completions", 1), spec.get("parallelism", 1)

    def local(value):
        # A path inside a mounted volume names the local directory standing for that volume.
        for mount_path, directory in mounts.items():
            if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
                return directory + value[len(mount_path.rstrip("/")):]
        return value

    def pod_process(index):
        env = {"JOB_COMPLETION_INDEX": str(index)} if indexed else {}
        for var in container.get("env", []):
            if "value" not in var:
                fail(f"kubernetes: job {name}: env {var['name']}: only literal values are emulated")
            env[var["name"]] = local(kube_expand(var["value"], env))
        argv = [kube_expand(a, env) for a in container.get("command", []) + container.get("args", [])]
        for arg in argv:
            for mount_path in mounts:
                if re.search(rf"(^|[\s'\"=:]){re.escape(mount_path.rstrip('/'))}(/|$|[\s'\"])", arg):
                    fail(f"kubernetes: job {name}: '{arg}' names {mount_path} literally: the local run "
                         "cannot map it; use an env var such as SWEEP_DIR")
        cwd = os.path.join(work, "pods", f"{name}-{index}")
        os.makedirs(cwd)
        process_env = dict(os.environ, PATH=image_path, **env)
        return run_logged(argv, os.path.join(work, f"{name}-{index}.log"), cwd=cwd, env=process_env)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallelism) as pool:
        results = list(pool.map(pod_process, range(completions)))
    for index, (code, _) in enumerate(results):
        if code != 0:
            fail(f"kubernetes: job {name}, index {index}: exit {code}", os.path.join(work, f"{name}-{index}.log"))
    report.append(f"kubernetes job {name}: {completions} pod process(es), {parallelism} at once, "
                  f"{time.monotonic() - start:.1f} s wall")


def recipe_kubernetes(work, matrix, report, image_tools):
    documents = []
    for manifest in ("shards-job.yaml", "merge-job.yaml"):  # run.sh's order: merge after shards
        with open(os.path.join(RECIPES, "kubernetes", manifest), encoding="utf-8") as f:
            documents += [d for d in yaml.safe_load_all(f) if d]
    volumes = {}
    for claim in (d for d in documents if d["kind"] == "PersistentVolumeClaim"):
        volumes[claim["metadata"]["name"]] = os.path.join(work, "volumes", claim["metadata"]["name"])
        os.makedirs(volumes[claim["metadata"]["name"]])
    # run.sh: kubectl create configmap perfsim-matrix --from-file=matrix.json="$MATRIX"
    config = os.path.join(work, "configmaps", "perfsim-matrix")
    os.makedirs(config)
    shutil.copy(os.path.join(REPO, matrix), os.path.join(config, "matrix.json"))
    volumes["configmap/perfsim-matrix"] = config
    # The image (Dockerfile): perfsim's tool path and sweep-shard.sh on PATH.
    image_bin = os.path.join(work, "image-bin")
    os.makedirs(image_bin)
    shutil.copy(os.path.join(RECIPES, "sweep-shard.sh"), image_bin)
    image_path = os.pathsep.join([image_tools, image_bin, os.environ["PATH"]])
    for job in (d for d in documents if d["kind"] == "Job"):
        run_kube_job(job, work, volumes, image_path, report)
    sweep = volumes["perfsim-sweep"]
    shards = sorted(d for d in os.listdir(sweep) if d.startswith("shard-"))
    return os.path.join(sweep, "merged", "sweep.json"), [os.path.join(sweep, s) for s in shards]


# ---------------------------------------------------------------- main --------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--fake-sbatch":
        return fake_sbatch(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("recipes", nargs="*", metavar="RECIPE", help="ci, slurm, kubernetes (default: all three)")
    parser.add_argument("--matrix", default=DEFAULT_MATRIX, help="matrix file, relative to the repository root")
    parser.add_argument("--reference", help="an unsharded sweep.json of the same matrix (default: run it now)")
    parser.add_argument("--work", help="a new directory for everything written (default: a temporary one, kept)")
    options = parser.parse_args()
    recipes = options.recipes or ["ci", "slurm", "kubernetes"]
    unknown = sorted(set(recipes) - {"ci", "slurm", "kubernetes"})
    if unknown:
        parser.error(f"RECIPE: '{unknown[0]}' is not one of ci, slurm, kubernetes")
    if not os.path.isfile(os.path.join(REPO, options.matrix)):
        parser.error(f"--matrix: no file '{options.matrix}' under {REPO}")
    work = options.work or tempfile.mkdtemp(prefix="perfsim-recipes-")
    os.makedirs(work, exist_ok=True)
    if os.listdir(work):
        parser.error(f"--work: '{work}' is not empty")
    log(f"work directory {work}; matrix {options.matrix}; load {os.getloadavg()[0]:.1f}")
    os.environ.update(DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")

    report = []
    image_tools = os.path.join(work, "tools")
    if options.reference is None or "kubernetes" in recipes:
        install_perfsim(work, image_tools)
    reference = options.reference
    if reference is None:
        reference = os.path.join(work, "unsharded", "sweep.json")
        code, seconds = run_logged([os.path.join(image_tools, "perfsim"), "sweep", "--matrix", options.matrix,
                                    "--out", os.path.dirname(reference)], os.path.join(work, "unsharded.log"), cwd=REPO)
        if code != 0:
            fail(f"unsharded sweep: exit {code}", os.path.join(work, "unsharded.log"))
        report.append(f"unsharded sweep: one process, {seconds:.1f} s wall")

    failures = 0
    for recipe in recipes:
        recipe_work = os.path.join(work, recipe)
        os.makedirs(recipe_work)
        log(f"{recipe}: running")
        try:
            if recipe == "ci":
                merged, shards = recipe_ci(recipe_work, options.matrix, report)
            elif recipe == "slurm":
                merged, shards = recipe_slurm(recipe_work, options.matrix, report)
            else:
                merged, shards = recipe_kubernetes(recipe_work, options.matrix, report, image_tools)
            problem = check_merged(merged, reference)
        except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as error:
            merged, shards, problem = None, [], f"{type(error).__name__}: {error}"
        verdict = "merged sweep.json equals the unsharded one except wall.seconds and wall.faults_per_wall_second"
        report.append(f"{recipe}: {len(shards)} shards -> {verdict if problem is None else 'FAILED: ' + problem}")
        failures += problem is not None
    summary = "\n".join(report)
    with open(os.path.join(work, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(summary + "\n")
    print(summary)
    log(f"load after {os.getloadavg()[0]:.1f}; details in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
