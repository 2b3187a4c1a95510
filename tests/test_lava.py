"""LAVA, the way pagemap-bench scales out: lava/lava.sh, its job templates, the test
definition that runs in the guest, the framed archive that brings a run directory back
in the job log, and the CI templates.

Offline (always): the test definition's reporting and archive steps under busybox sh on
a synthetic run directory; fetching from logs, whole, corrupt, truncated, unsafe or
clashing; rendered jobs that LAVA's own schema accepts; an unreachable instance named in
one line; the CI templates' YAML and every ./run.sh subcommand and option they call.

Against a real local LAVA instance (tests/lava/setup.sh: PostgreSQL, gunicorn,
lava-publisher, lava-scheduler, apache2, lava-worker and one QEMU device): runs as root
where LAVA is installed, or with PMB_LAVA_TESTS=1 (which lets setup install it: about
5 minutes).  It runs `lava/lava.sh ab` on the cached stock and patched 6.12 images
(PMB_LAVA_STOCK and PMB_LAVA_PATCHED name others) with a tiny matrix, in the default order
(AB: the guests run under icount), checks the gate's verdict, that the two fetched runs are well-formed run directories with the cases of a
local run of the same matrix, and that a corrupted job log is refused.  The instance is
torn down afterwards unless it was already running, and nothing it started is left.
"""
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

import synth
from conftest import EXIT_ERROR, EXIT_PASS, EXIT_USAGE, ROOT, is_root

LAVA = ROOT / "lava" / "lava.sh"
TESTDEF = ROOT / "lava" / "pagemap-bench.yaml"
SETUP = ROOT / "tests" / "lava" / "setup.sh"
TEARDOWN = ROOT / "tests" / "lava" / "teardown.sh"
STATE = Path(os.environ.get("PMB_LAVA_STATE", "/run/pagemap-bench/lava"))
BUSYBOX = Path("/bin/busybox")

# Appended to kernels/ab.sh's default A/B matrix (later options win): two kinds, 4 MiB,
# one series of five rounds, no second mapper and no sequence.
TINY = ["--kinds", "memfd,private-anon", "--size", "4M", "--dirty", "100", "--views", "self",
        "--no-sequence", "--batches", "1,64", "--rounds", "5", "--warmup", "1", "--series", "1",
        "--sparse-reads", "32", "--swapin-rounds", "2"]


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def read_tsv(path):
    lines = Path(path).read_text().splitlines()
    assert lines[0].startswith("# pagemap-bench "), path
    return list(csv.DictReader(lines[1:], delimiter="\t"))


# ------------------------------------------------------------ the framed archive

def frame(run_dir, name=None):
    """The console lines the test definition prints for run_dir."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(run_dir, arcname=name or run_dir.name)
    data = buf.getvalue()
    b64 = base64.encodebytes(data).decode().splitlines()
    name = name or run_dir.name
    return ([f"PMB-ARCHIVE-BEGIN v1 name={name} bytes={len(data)} "
             f"sha256={hashlib.sha256(data).hexdigest()}"] + b64 +
            [f"PMB-ARCHIVE-END v1 name={name}"])


def as_lava_log(lines):
    """A raw LAVA job log (lavacli jobs logs --raw) whose target lines are these."""
    out = ['- {"dt": "2026-11-29T21:40:00.000000", "lvl": "info", "msg": "start: 3 lava-test-retry"}']
    for l in lines:
        out.append("- " + json.dumps({"dt": "2026-11-29T21:40:01.000000", "lvl": "target",
                                      "msg": l + "\r"}))
    out.append('- {"dt": "2026-11-29T21:40:02.000000", "lvl": "info", "msg": "Job finished correctly"}')
    return "\n".join(out) + "\n"


def fetch_log(log, out):
    return run([LAVA, "fetch", "--log", log, "--out", out])


@pytest.fixture
def synth_run(tmp_path):
    cases = synth.default_cases(shmem_report="swapped-as-none")
    return synth.write_run(tmp_path / "src" / "20261129T000000Z-6.1.0", cases=cases,
                           run_id="20261129T000000Z-6.1.0")


def test_fetch_takes_a_whole_run_back(tmp_path, synth_run):
    log = tmp_path / "job.log"
    log.write_text(as_lava_log(["boot", "pmbench: run: 6 cases"] + frame(synth_run) + ["/ # "]))
    r = fetch_log(log, tmp_path / "out")
    assert r.returncode == EXIT_PASS, r.stderr
    got = Path(r.stdout.strip())
    assert got == (tmp_path / "out" / synth_run.name).resolve()
    for f in synth_run.iterdir():
        assert (got / f.name).read_bytes() == f.read_bytes(), f.name
    console = (got / "console.log").read_text()
    assert "pmbench: run: 6 cases" in console and "PMB-ARCHIVE-BEGIN" in console
    assert len(console.splitlines()) < 10          # the base64 lines are left out
    assert [p.name for p in (tmp_path / "out").iterdir()] == [synth_run.name]   # no temp dir left
    # Plain console text (a lab's serial capture) works as well.
    plain = tmp_path / "console.txt"
    plain.write_text("\n".join(frame(synth_run)) + "\n")
    r = fetch_log(plain, tmp_path / "out2")
    assert r.returncode == EXIT_PASS, r.stderr


def corruptions(lines):
    """(what, console lines) for every way a transfer can go wrong."""
    mid = len(lines) // 2
    flip = lines[mid][:10] + ("A" if lines[mid][10] != "A" else "B") + lines[mid][11:]
    return [
        ("one character changed", lines[:mid] + [flip] + lines[mid + 1:]),
        ("a line lost", lines[:mid] + lines[mid + 1:]),
        ("truncated", lines[:mid]),
        ("a kernel message inside", lines[:mid] + ["[  12.3] zram: oops"] + lines[mid:]),
        ("wrong length", [re.sub(r"bytes=(\d+)", lambda m: f"bytes={int(m.group(1)) + 1}", lines[0])]
         + lines[1:]),
        ("wrong end marker", lines[:-1] + ["PMB-ARCHIVE-END v1 name=other"]),
        ("no archive", ["boot", "/ # "]),
    ]


def test_fetch_refuses_a_corrupt_or_truncated_transfer(tmp_path, synth_run):
    lines = frame(synth_run)
    for i, (what, bad) in enumerate(corruptions(lines)):
        log = tmp_path / f"bad{i}.log"
        log.write_text(as_lava_log(bad))
        out = tmp_path / f"out{i}"
        r = fetch_log(log, out)
        assert r.returncode == EXIT_ERROR, (what, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (what, r.stderr)
        assert r.stdout == "", what
        assert not out.exists() or not any(out.iterdir()), (what, list(out.iterdir()))


def test_fetch_refuses_unsafe_archives_and_never_overwrites(tmp_path, synth_run):
    # An entry outside the run directory, and a symbolic link inside it.
    for i, mk in enumerate(("escape", "symlink")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            tf.add(synth_run, arcname=synth_run.name)
            info = tarfile.TarInfo(f"{synth_run.name}/../evil" if mk == "escape" else f"{synth_run.name}/link")
            if mk == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tf.addfile(info)
            else:
                info.size = 4
                tf.addfile(info, io.BytesIO(b"evil"))
        data = buf.getvalue()
        lines = ([f"PMB-ARCHIVE-BEGIN v1 name={synth_run.name} bytes={len(data)} "
                  f"sha256={hashlib.sha256(data).hexdigest()}"]
                 + base64.encodebytes(data).decode().splitlines()
                 + [f"PMB-ARCHIVE-END v1 name={synth_run.name}"])
        log = tmp_path / f"{mk}.log"
        log.write_text("\n".join(lines) + "\n")
        r = fetch_log(log, tmp_path / f"out-{mk}")
        assert r.returncode == EXIT_ERROR and "not" in r.stderr, (mk, r.stderr)
        assert not (tmp_path / "evil").exists()
        assert not any((tmp_path / f"out-{mk}").iterdir())
    # A run directory that exists already is never overwritten.
    log = tmp_path / "ok.log"
    log.write_text("\n".join(frame(synth_run)) + "\n")
    assert fetch_log(log, tmp_path / "out").returncode == EXIT_PASS
    (tmp_path / "out" / synth_run.name / "cases.tsv").write_text("mine\n")
    r = fetch_log(log, tmp_path / "out")
    assert r.returncode == EXIT_ERROR and "already exists" in r.stderr
    assert (tmp_path / "out" / synth_run.name / "cases.tsv").read_text() == "mine\n"


# ------------------------------------------------------- the guest's test definition

def test_definition_reports_every_verdict_and_median_and_frames_the_run(tmp_path, synth_run):
    """The steps of lava/pagemap-bench.yaml after the run, under busybox sh with a
    stand-in lava-test-case, on a synthetic run directory."""
    if not BUSYBOX.exists():
        pytest.skip("no /bin/busybox (apt-get install busybox-static)")
    steps = yaml.safe_load(TESTDEF.read_text())["run"]["steps"]
    report = [s for s in steps if "pmb_col" in s or "PMB-ARCHIVE-BEGIN" in s]
    assert len(report) == 2
    results = tmp_path / "results"
    results.mkdir()
    shutil.copytree(synth_run, results / synth_run.name)
    (results / "latest").symlink_to(synth_run.name)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "lava-test-case").write_text('#!/bin/sh\necho "TESTCASE $*"\n')
    (fake / "lava-test-case").chmod(0o755)
    script = tmp_path / "steps.sh"
    script.write_text(f"set -e\nRESULTS={results}\n" + "\n".join(report) + "\n")
    r = run([BUSYBOX, "sh", script], env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    cases = {c["case"]: c for c in read_tsv(synth_run / "cases.tsv")}
    calls = {l.split()[1]: l.split()[2:] for l in out if l.startswith("TESTCASE ")}
    for cid, c in cases.items():
        want = {"correct": "pass", "skip": "skip"}.get(c["verdict"], "fail")
        assert calls[f"{cid}.correctness"] == ["--result", want], cid
    assert any(v == ["--result", "fail"] for v in calls.values())   # the stock shmem cases
    for s in read_tsv(synth_run / "summary.tsv"):
        name = f"{s['case']}.{s['method']}.b{s['batch']}.qd{s['qd']}"
        assert calls[name][:2] == ["--result", "pass"], name
        assert float(calls[name][3]) == pytest.approx(float(s["median_ns_per_entry"])), name
        assert calls[name][4:] == ["--units", "ns"], name
    assert calls[f"archive-{synth_run.name}"][:2] == ["--result", "pass"]
    # The archive is printed once (not through the 'latest' link) and comes back whole.
    assert sum(l.startswith("PMB-ARCHIVE-BEGIN") for l in out) == 1
    log = tmp_path / "console.txt"
    log.write_text(r.stdout)
    r = fetch_log(log, tmp_path / "back")
    assert r.returncode == EXIT_PASS, r.stderr
    for f in synth_run.iterdir():
        assert (Path(r.stdout.strip()) / f.name).read_bytes() == f.read_bytes()


def test_definition_is_valid_for_lava():
    d = yaml.safe_load(TESTDEF.read_text())
    assert d["metadata"]["format"] == "Lava-Test Test Definition 1.0"
    assert set(d["params"]) >= {"RUN_ARGS", "RESULTS", "PMB_ENVIRONMENT", "PMB_KERNEL_SHA256"}
    assert all(isinstance(s, str) for s in d["run"]["steps"])
    assert d["run"]["steps"][0] == "set +x"
    try:
        from voluptuous import Schema
        from lava_common.schemas.test.testdef import testdef
    except ImportError:
        return
    Schema(testdef())(d)


# ---------------------------------------------------------------- rendering jobs

@pytest.fixture(scope="module")
def fake_kernel(tmp_path_factory):
    k = tmp_path_factory.mktemp("kernel") / "bzImage"
    k.write_bytes(os.urandom(4096))
    return k


@pytest.fixture(scope="module")
def initramfs(tmp_path_factory, bins):
    if not BUSYBOX.exists() or not shutil.which("cpio"):
        pytest.skip("needs busybox-static and cpio")
    f = tmp_path_factory.mktemp("initramfs") / "initramfs.cpio.gz"
    r = run([ROOT / "kernels" / "initramfs.sh", "--bin", bins, "--out", f, "--init", "shell"])
    assert r.returncode == 0, r.stderr
    return f


@pytest.mark.parametrize("device_type", ["qemu", "x86"])
def test_rendered_jobs_are_valid_lava_jobs(tmp_path, fake_kernel, initramfs, bins, device_type):
    job = tmp_path / "job.yaml"
    r = run([LAVA, "job", "--kernel", fake_kernel, "--initramfs", initramfs, "--bin", bins,
             "--device-type", device_type, "--label", "A1", "--artifacts", tmp_path / "art",
             "--out", job, *TINY])
    assert r.returncode == 0, r.stderr
    d = yaml.safe_load(job.read_text())
    assert d["device_type"] == device_type
    deploy = d["actions"][0]["deploy"]
    kernel = deploy["images"]["kernel"] if device_type == "qemu" else deploy["kernel"]
    ramdisk = deploy["images"]["ramdisk"] if device_type == "qemu" else deploy["ramdisk"]
    for img in (kernel, ramdisk):
        path = Path(img["url"][len("file://"):])
        assert path.parent == (tmp_path / "art").resolve()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == img["sha256sum"]
    assert kernel["sha256sum"] == hashlib.sha256(fake_kernel.read_bytes()).hexdigest()
    if device_type == "qemu":
        assert ramdisk["format"] == "cpio.newc" and ramdisk["overlays"] == {"lava": True}
        assert "-icount shift=0,sleep=off" in d["context"]["extra_options"]
        assert "tsc_early_khz=1000000" in kernel["image_arg"]
    definition = d["actions"][2]["test"]["definitions"][0]
    assert definition["from"] == "inline" and "parameters" not in definition
    testdef = definition["repository"]
    assert "params" not in testdef
    steps = testdef["run"]["steps"]
    assert f"RUN_ARGS='{' '.join(TINY)}'" in steps
    assert any(s.startswith("PMB_KERNEL_SHA256='" + kernel["sha256sum"]) for s in steps)
    original = yaml.safe_load(TESTDEF.read_text())["run"]["steps"]
    assert steps[-len(original):] == original
    try:
        from lava_common.schemas import validate
    except ImportError:
        return
    validate(d, strict=True, extra_context_variables=[])


def test_lava_options_are_checked(tmp_path, fake_kernel, bins):
    base = [LAVA, "job", "--kernel", fake_kernel, "--bin", bins, "--out", tmp_path / "j.yaml"]
    for bad in (["--mode", "warp"], ["--device-type", "arm"], ["--mem", "12"],
                ["--kinds", "memfd it"], ["--kinds", "no-such-kind"], ["--url-base", "gopher://x"]):
        r = run(base + bad)
        assert r.returncode == EXIT_USAGE, (bad, r.stderr)
    assert not (tmp_path / "j.yaml").exists()
    assert run([LAVA, "frobnicate"]).returncode == EXIT_USAGE
    assert run([LAVA, "fetch", "--out", tmp_path]).returncode == EXIT_USAGE
    for sub in ("job", "submit", "wait", "fetch", "run", "ab"):
        r = run([LAVA, sub, "--help"])
        assert r.returncode == 0 and r.stdout.startswith("usage:"), sub


def test_an_unreachable_lava_is_one_line_with_lavacli_s_reason(tmp_path):
    """lavacli prints "Unable to connect: ..." on stdout: the one line names it."""
    if not shutil.which("lavacli"):
        pytest.skip("lavacli not installed")
    job = tmp_path / "j.yaml"
    job.write_text("device_type: qemu\n")
    uri = ["--uri", "http://127.0.0.1:9/RPC2"]     # nothing listens on the discard port
    for cmd in (["submit", job], ["wait", "1"], ["fetch", "1", "--out", tmp_path / "out"]):
        r = run([LAVA, *uri, *cmd], timeout=120)
        assert r.returncode == EXIT_ERROR, (cmd, r.stderr)
        err = r.stderr.strip().splitlines()
        assert len(err) == 1 and "connect" in err[0].lower(), (cmd, r.stderr)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ CI templates

CI = {"github": ROOT / "lava" / "ci" / "github-actions.yml",
      "gitlab": ROOT / "lava" / "ci" / "gitlab-ci.yml"}


def ci_scripts(name, d):
    if name == "github":
        return [s["run"] for job in d["jobs"].values() for s in job["steps"] if "run" in s]
    return [line for job in d.values() if isinstance(job, dict) and "script" in job
            for line in job["script"]]


def run_sh_calls(script):
    """(subcommand, [options]) for every ./run.sh call in a script."""
    script = script.replace("\\\n", " ")
    calls = []
    for line in script.splitlines():
        for m in re.finditer(r"\./run\.sh\s+([a-z]+)((?:\s+(?:--?[A-Za-z][\w-]*|[^\s|;&>]+))*)", line):
            calls.append((m.group(1), re.findall(r"(?<!\S)(--[a-z][a-z0-9-]*)", m.group(2))))
    return calls


@pytest.fixture(scope="module")
def run_sh_help():
    top = run([ROOT / "run.sh", "--help"])
    assert top.returncode == 0
    cache = {}

    def sub_help(sub):
        if sub not in cache:
            r = run([ROOT / "run.sh", sub, "--help"], timeout=600)
            if r.returncode == 77:
                pytest.skip(f"./run.sh {sub} --help cannot run here: {r.stderr.strip()[-200:]}")
            assert r.returncode == 0, (sub, r.stderr[-2000:])
            cache[sub] = r.stdout + r.stderr
        return cache[sub]
    return top.stdout, sub_help


@pytest.mark.parametrize("name", sorted(CI))
def test_ci_template_is_valid_and_calls_only_what_run_sh_has(name, run_sh_help):
    d = yaml.safe_load(CI[name].read_text())
    top, sub_help = run_sh_help
    calls = [c for s in ci_scripts(name, d) for c in run_sh_calls(s)]
    assert ("ab", ["--stock", "--patched"]) in calls, calls
    for sub, opts in calls:
        assert re.search(rf"^\s+{sub}\b", top, re.M), f"./run.sh has no subcommand {sub}"
        if sub == "setup":
            continue            # no options, and --help would install packages
        text = sub_help(sub)
        for o in opts:
            assert re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text), f"./run.sh {sub} has no {o}"


def test_ci_templates_keep_results_and_fail_with_the_gate():
    gh = yaml.safe_load(CI["github"].read_text())
    steps = gh["jobs"]["ab"]["steps"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload and upload[0]["if"].startswith("always()")
    gate = steps[-1]
    assert gate["if"] == "always()" and 'exit "$rc"' in gate["run"] and "exit 4" in gate["run"]
    gl = yaml.safe_load(CI["gitlab"].read_text())["pagemap-bench-ab"]
    assert gl["artifacts"]["when"] == "always" and "ab-results/" in gl["artifacts"]["paths"]
    assert gl["artifacts"]["reports"]["junit"] == "ab-results/gate/junit.xml"
    assert gl["allow_failure"] == {"exit_codes": [4]}
    assert gl["script"][-1] == "exit $rc"


# ------------------------------------------------------------- a real LAVA instance

def lava_installed():
    r = run(["dpkg-query", "-W", "-f=${Status}", "lava-server", "lava-dispatcher", "lavacli"])
    return r.returncode == 0 and r.stdout.count("ok installed") == 3


def kernel_cache():
    if os.environ.get("PMB_CACHE"):
        return Path(os.environ["PMB_CACHE"])
    return Path("/var/cache/pagemap-bench") if is_root() else ROOT / ".cache"


def cached_image(*build_args):
    r = run([ROOT / "kernels" / "build.sh", "--print-key", *build_args],
            env={**os.environ, "PMB_CACHE": str(kernel_cache())})
    if r.returncode != 0:
        return None
    img = kernel_cache() / "kernels" / r.stdout.strip() / "bzImage"
    return img if img.exists() else None


def images():
    """The stock and the patched 6.12 image (ab's default kernel): PMB_LAVA_STOCK and
    PMB_LAVA_PATCHED, else the cache (tests/test_kernels.py builds them first in CI)."""
    if os.environ.get("PMB_LAVA_STOCK") and os.environ.get("PMB_LAVA_PATCHED"):
        return Path(os.environ["PMB_LAVA_STOCK"]), Path(os.environ["PMB_LAVA_PATCHED"])
    return (cached_image("--kernel", "6.12"),
            cached_image("--kernel", "6.12", "--patches", ROOT / "kernels" / "patches"))


def live_records():
    """The processes setup.sh recorded that still run (name, pid)."""
    out = []
    try:
        lines = (STATE / "pids").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        name, pid, ticks = line.split()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[19] == ticks and fields[0] != "Z":
            out.append((name, int(pid)))
    return out


@pytest.fixture(scope="module")
def lava_instance():
    if not is_root():
        pytest.skip("needs root (the LAVA instance installs packages and starts services)")
    if not lava_installed() and os.environ.get("PMB_LAVA_TESTS") != "1":
        pytest.skip("LAVA not installed; PMB_LAVA_TESTS=1 lets tests/lava/setup.sh install it "
                    "(about 5 minutes)")
    stock, patched = images()
    if not stock or not patched:
        pytest.skip("the stock and patched 6.12 images are not cached (kernels/build.sh --kernel 6.12 "
                    "builds them; PMB_LAVA_STOCK and PMB_LAVA_PATCHED name others)")
    was_running = bool(live_records())
    try:
        r = run([SETUP], timeout=3600)
        assert r.returncode == 0, r.stderr[-3000:]
        yield stock, patched
    finally:
        if not was_running:
            r = run([TEARDOWN], timeout=600)
            assert r.returncode == 0, r.stderr
            assert live_records() == []
            assert not (STATE / "pids").exists()


@pytest.fixture(scope="module")
def lava_ab(lava_instance, tmp_path_factory, bins):
    stock, patched = lava_instance
    results = tmp_path_factory.mktemp("lava-ab")
    env = {**os.environ, "PMB_RESULTS": str(results), "PMB_BIN": str(bins)}
    # The default order: AB, as the guests run under icount (ABBA is for wall-time modes).
    r = run([LAVA, "ab", "--stock", stock, "--patched", patched,
             "--timeout", "20", *TINY], env=env, timeout=3600)
    out = r.stdout.strip().splitlines()
    assert out, r.stderr[-3000:]
    # The last line is kernels/ab.sh's A/B directory: the LAVA run's own (with
    # lava/ and boots/), or one inside it where ab.sh --from-boots has no --out.
    ab = Path(out[-1])
    lava_dir = ab if (ab / "lava").is_dir() else ab.parent
    assert lava_dir.name.startswith("ab-lava-") and (lava_dir / "lava").is_dir(), ab
    return r, ab, lava_dir


def test_lava_ab_gates_the_patch(lava_ab):
    r, ab, lava_dir = lava_ab
    assert r.returncode == EXIT_PASS, r.stderr[-3000:]
    assert (ab / "gate" / "report.md").exists()
    assert "<testsuite" in (ab / "gate" / "junit.xml").read_text()
    jobs = (lava_dir / "lava" / "jobs.txt").read_text().split()
    assert jobs[0::2] == ["A1", "B1"]
    stock = {c["case"]: c for c in read_tsv(ab / "stock" / "cases.tsv")}
    patched = {c["case"]: c for c in read_tsv(ab / "patched" / "cases.tsv")}
    for cid, c in stock.items():
        if c["kind"] == "memfd" and int(c["true_swapped"]) > 0:
            assert c["verdict"] == "incorrect", c          # the bug, on stock
            assert patched[cid]["verdict"] == "correct", patched[cid]
        if c["kind"] == "private-anon":
            assert c["verdict"] == patched[cid]["verdict"] == "correct"


def test_lava_runs_are_whole_run_directories_with_the_local_cases(lava_ab, tmp_path, bins):
    _, ab, lava_dir = lava_ab
    assert sorted(p.name for p in (lava_dir / "boots").iterdir()) == ["A1", "B1"]
    boots = [d for b in sorted((lava_dir / "boots").iterdir()) for d in b.iterdir()]
    assert len(boots) == 2
    local = run([bins / "pmbench", "run", *ab_matrix(), "--results", tmp_path], timeout=600)
    if local.returncode == 77:
        pytest.skip(f"the local run cannot run here: {local.stderr.strip()[-200:]}")
    assert local.returncode == 0, local.stderr[-2000:]
    local_dir = Path(os.readlink(tmp_path / "latest"))
    local_dir = local_dir if local_dir.is_absolute() else tmp_path / local_dir
    want = sorted(c["case"] for c in read_tsv(local_dir / "cases.tsv"))
    for d in boots:
        meta = json.loads((d / "meta.json").read_text())
        assert meta["status"] == "complete" and meta["environment"] == "qemu-icount", d
        assert meta["kernel"]["image_sha256"] and meta["kernel"]["tsc_khz_given"] == "1000000"
        for f in ("cases.tsv", "samples.tsv", "summary.tsv", "verify.ktap", "console.log"):
            assert (d / f).stat().st_size > 0, (d, f)
        assert sorted(c["case"] for c in read_tsv(d / "cases.tsv")) == want, d
        job = json.loads((d / "lava-job.json").read_text())
        assert job["health"] == "Complete"


def ab_matrix():
    """kernels/ab.sh's default matrix with TINY after it, as lava/lava.sh ab runs it."""
    r = run([ROOT / "kernels" / "ab.sh", "--help"])
    line = r.stdout.split("default A/B matrix, so they override it:")[1].splitlines()[1]
    return line.split() + TINY


def test_lava_fetch_refuses_a_corrupted_job_log(lava_ab, tmp_path):
    _, ab, lava_dir = lava_ab
    job = (lava_dir / "lava" / "jobs.txt").read_text().split()[1]
    # The real log, through lavacli, fetched again: whole.
    r = run([LAVA, "fetch", job, "--out", tmp_path / "again"])
    assert r.returncode == EXIT_PASS, r.stderr
    again = Path(r.stdout.strip())
    a1 = next((lava_dir / "boots" / "A1").iterdir())
    assert again.name == a1.name
    for f in ("meta.json", "cases.tsv", "samples.tsv", "summary.tsv", "console.log"):
        assert (again / f).read_bytes() == (a1 / f).read_bytes(), f
    # Fetched again into the same place: refused, nothing overwritten.
    r = run([LAVA, "fetch", job, "--out", tmp_path / "again"])
    assert r.returncode == EXIT_ERROR and "already exists" in r.stderr
    # The same log with one base64 character changed, and cut short.
    raw = run(["env", f"XDG_CONFIG_HOME={STATE}", "lavacli", "-i", "pmb-local", "jobs", "logs",
               "--raw", "--no-follow", job]).stdout
    lines = raw.splitlines()
    begin = next(i for i, l in enumerate(lines) if "PMB-ARCHIVE-BEGIN" in l)
    end = next(i for i, l in enumerate(lines) if "PMB-ARCHIVE-END" in l)
    mid = (begin + end) // 2
    m = re.search(r'"msg": "([A-Za-z0-9+/=]{20})', lines[mid])
    assert m, lines[mid]
    s = m.group(1)
    bad = lines[:mid] + [lines[mid].replace(s, s[:5] + ("A" if s[5] != "A" else "B") + s[6:], 1)] \
        + lines[mid + 1:]
    for what, text in (("corrupt", bad), ("truncated", lines[:mid])):
        log = tmp_path / f"{what}.yaml"
        log.write_text("\n".join(text) + "\n")
        out = tmp_path / f"out-{what}"
        r = fetch_log(log, out)
        assert r.returncode == EXIT_ERROR, (what, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "nothing was written" in r.stderr
        assert not out.exists() or not any(out.iterdir()), what
