#!/usr/bin/python3
"""Make the fuzz targets' seed corpus from real runs: tests/fuzz/mkseeds.py [--out DIR] [--bin DIR].

As root (the runs build memory states and swap them out), from the repository
after `make`: makes small real runs with build/bin/pmbench (three of the same
parameters, a richer one, a verify run), merges, compares and gates them, and
captures pmwork's protocol lines and pmscan's table; then writes each target's
seeds in its framing (tests/fuzz/fuzz.h: parts separated by lines "%%") into
DIR/<target>/ (default tests/fuzz/corpus), trimmed to a few KB each: every
series keeps its first rows, meta.json is compacted, a noise floor keeps the
keys the gate reads.  The runs go to a temporary directory, removed at the end.
corpus/policy/all-keys.policy is written by hand and left alone.

tests/fuzz/mkseeds.py --dicts writes only the dictionaries, tests/fuzz/dict/<target>.dict,
from harness/schema/schema.h, catalog/catalog.def and wire/ (no root, no runs).
"""
import argparse
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
RUN_FILES = ("meta.json", "cases.tsv", "samples.tsv", "host-noise.json", "kernel-console.txt")
SMALL = ["--size", "1M", "--rounds", "3", "--series", "2", "--warmup", "1", "--sparse-reads", "4",
         "--batches", "1,64", "--precision", "0"]


def sh(*args):
    """Run a program; a verdict (exit 0, 1, 2 or 4) is fine, anything else stops."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600)
    if r.returncode not in (0, 1, 2, 4):
        sys.exit(f"mkseeds: {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


def run_dir(results):
    """The run directory a pmbench run left in results (its only directory but 'latest')."""
    return results / os.readlink(results / "latest")


# ---------------------------------------------------------------- trimming

def cut_strings(v, n=100):
    """v with every string longer than n cut to n (a kernel command line, a reason)."""
    if isinstance(v, str):
        return v[:n]
    if isinstance(v, list):
        return [cut_strings(x, n) for x in v]
    if isinstance(v, dict):
        return {k: cut_strings(x, n) for k, x in v.items()}
    return v


def meta(path):
    return json.dumps(cut_strings(json.loads(Path(path).read_text())), separators=(",", ":")) + "\n"


def trim_tsv(path, keep, key_cols=4):
    """The schema line, the header, and the first `keep` rows of each series (its first key_cols columns)."""
    lines = Path(path).read_text().splitlines(keepends=True)
    out, seen = lines[:2], {}
    for line in lines[2:]:
        key = tuple(line.split("\t")[:key_cols])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= keep:
            out.append(line)
    return "".join(out)


def run_parts(d, keep=7, cases=None):
    """The five files of a run directory as parts ("" where it has none)."""
    d = Path(d)
    parts = [meta(d / "meta.json"), (d / "cases.tsv").read_text(), trim_tsv(d / "samples.tsv", keep)]
    if cases:  # only these cases' rows
        for i in (1, 2):
            lines = parts[i].splitlines(keepends=True)
            parts[i] = "".join(lines[:2] + [l for l in lines[2:] if l.split("\t")[0] in cases])
    for name in RUN_FILES[3:]:
        parts.append((d / name).read_text() if (d / name).exists() else "")
    return parts


def floor(cmp_dir):
    """An A/A compare.json with the keys the gate's --noise-floor reads."""
    j = json.loads((Path(cmp_dir) / "compare.json").read_text())
    rows = [{"method": r["method"], "ratio": r["ratio"], "case": r["case"]} for r in j["rows"]]
    return json.dumps({"schema": j["schema"], "same_build": j["same_build"], "rows": rows}) + "\n"


def frame(parts):
    """Parts joined by lines "%%"; trailing empty parts left out."""
    parts = list(parts)
    while parts and not parts[-1]:
        parts.pop()
    return "%%\n".join(p if not p or p.endswith("\n") else p + "\n" for p in parts)


def write(out, target, name, text):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)


# ---------------------------------------------------------------- pmwork and pmscan

def wait_stopped(pid):
    for _ in range(1000):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in "Tt":
                return
        time.sleep(0.01)
    sys.exit(f"mkseeds: pmwork {pid} did not stop")


def capture_wire(bins, swapout):
    """pmwork's READY, STATE and SWAPIN lines and pmscan's table, for a few kinds and views."""
    lines, tables = [], []
    for kind, extra in (("memfd", []), ("private-anon", ["--touch", "read"]),
                        ("shared-anon", ["--view", "second-mapper"])):
        p = subprocess.Popen([bins / "pmwork", "--kind", kind, "--pages", "64", "--swapout", swapout,
                              *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            ready = p.stdout.readline().decode()
            if not ready.startswith("READY "):
                sys.exit(f"mkseeds: pmwork said {ready!r}")
            wait_stopped(p.pid)
            kv = dict(w.split("=", 1) for w in ready.split()[1:])
            scan = sh(bins / "pmscan", "--pid", kv["view_pid"], "--addr", kv["view_addr"], "--pages", "64",
                      "--rounds", "2", "--warmup", "1", "--sparse-reads", "4", "--method", "dense",
                      "--method", "sparse", "--method", "batched:8", "--method", "uring:8:4")
            tables.append(scan.stdout)
            lines.append(ready)
            for cmd in ("STATE", "SWAPIN"):
                os.kill(p.pid, signal.SIGCONT)
                p.stdin.write(f"{cmd}\n".encode())
                p.stdin.flush()
                lines.append(p.stdout.readline().decode())
                if cmd == "STATE":
                    p.stdout.read(64)  # the page vector
                wait_stopped(p.pid)
            os.kill(p.pid, signal.SIGCONT)
            p.stdin.write(b"EXIT\n")
            p.stdin.flush()
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    return lines, tables


# ---------------------------------------------------------------- dictionaries

def catalog_names():
    """Every method, co-metric and kind name of catalog/catalog.def, and the swap-out modes and views."""
    text = (ROOT / "catalog/catalog.def").read_text()
    names = re.findall(r'^PMB_(?:METHOD|METRIC|KIND)\(\w+, "([^"]+)"', text, re.M)
    return names + ["pageout", "cgroup", "none", "self", "second-mapper", "fork-child"]


def schema_columns():
    """The column names of every table in harness/schema/schema.h."""
    return re.findall(r'X\(\w+, "([^"]+)",', (ROOT / "harness/schema/schema.h").read_text())


def wire_keys():
    """The keys of READY (wire/wire.h), STATE (its format in wire/wire.c) and SWAPIN."""
    h = (ROOT / "wire/wire.h").read_text()
    c = (ROOT / "wire/wire.c").read_text()
    ready = re.findall(r"X\((\w+), [01]\)", h[h.index("PMB_READY_KEYS(X)"):])
    state = re.findall(r" (\w+)=%", c)
    return list(dict.fromkeys(ready + state + ["pages", "ns", "touch"]))


FRAMING = ["%%\n", "\n%%\n", "@dir", "@fifo", "@big", "@link:", "@link:../"]
META_KEYS = ["schema", "run_id", "status", "kernel", "release", "version", "config_fnv1a64", "image_sha256",
             "environment", "host_noise", "busy", "why", "kernel_log", "outside_cases", "outside_lines",
             "merged_from", "series_stride", "params", "pagemap-bench/1", "complete", "running",
             "interrupted", "failed", "host", "qemu-icount", "qemu-tcg", "qemu-kvm", "true", "false", "null"]
RUN_WORDS = (["# pagemap-bench cases v1", "# pagemap-bench samples v1", "correct", "incorrect", "oom",
              "skip", "error", "write", "read", "random", "contiguous", "strided", "-", "\t"] + META_KEYS
             # Limits: INT64_MAX, INT64_MAX / 4 (ns), 2^32 (pages), a double's edge.
             + ["9223372036854775807", "2305843009213693951", "4294967296", "1e308", "-0"])


def write_dicts(out):
    """A libFuzzer dictionary per target (tests/fuzz/dict/<target>.dict)."""
    def esc(w):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}" for c in w) + '"'

    run = FRAMING + RUN_WORDS + schema_columns() + catalog_names()
    words = {
        "rundir": run,
        "merge": run,
        "model": run + ["weight=", "ols", "relative", "robust", "residuals", "seed=", "boots"],
        "compare_gate": run + ["compare", "default-out", "threshold=", "seed=", "rows", "ratio", "method",
                               "same_build", "pagemap-bench-compare/1", "pagemap-bench-policy 1", "match",
                               "max_slowdown=", "correctness=", "group=shmem", "state=swapped"],
        "policy": ["pagemap-bench-policy 1", "threshold", "match", "*", ":", "max_slowdown=", "correctness=",
                   "noise", "x", "%", "any", "correct", "no-worse", "swapped-reported", "kind=", "group=",
                   "state=", "method=", "swapout=", "view=", "shmem", "private", "all", "swapped", "holes",
                   "resident"] + catalog_names(),
        "wire": ["READY", "STATE", "SWAPIN", "%%\n", "# pagemap-bench pmscan v1", "touch=read", "touch=write",
                 "0x", "=", "method\tbatch\tqd\tround\twarmup\tentries\treads\tns\tpmd_pos",
                 "18446744073709551615", "9223372036854775807", "-1"]
                + [k + "=" for k in wire_keys()] + catalog_names(),
    }
    out.mkdir(parents=True, exist_ok=True)
    for target, ws in words.items():
        seen = dict.fromkeys(ws)
        (out / f"{target}.dict").write_text(
            f"# libFuzzer dictionary of the {target} target, made by tests/fuzz/mkseeds.py --dicts\n"
            + "".join(esc(w) + "\n" for w in seen))


# ---------------------------------------------------------------- the seeds

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests/fuzz/corpus")
    ap.add_argument("--bin", type=Path, default=ROOT / "build/bin")
    ap.add_argument("--dicts", action="store_true", help="write the dictionaries (tests/fuzz/dict/) only")
    a = ap.parse_args()
    if a.dicts:
        write_dicts(ROOT / "tests/fuzz/dict")
        return
    if os.geteuid():
        sys.exit("mkseeds: needs root (real runs build swapped memory states)")
    pmb = a.bin / "pmbench"
    tmp = Path(tempfile.mkdtemp(prefix="pmb-seeds-"))
    try:
        res = tmp / "results"
        runs = []
        for _ in range(3):
            sh(pmb, "run", "--results", res, "--kinds", "memfd,private-anon", "--swapout", "pageout", *SMALL)
            runs.append(run_dir(res))
        A, B, C = runs
        sh(pmb, "run", "--results", tmp / "rich", "--kinds", "memfd,shared-anon,private-anon",
           "--swapout", "pageout,cgroup", "--methods", "dense,sparse,batched,uring,scan-ioctl,userspace",
           "--views", "self,second-mapper", "--swapin-rounds", "2", *SMALL)
        R = run_dir(tmp / "rich")
        sh(pmb, "verify", "--results", tmp / "verify", "--kinds", "memfd,tmpfs,sysv-shm",
           "--swapout", "pageout,none", "--size", "1M", "--sequence")
        V = run_dir(tmp / "verify")
        sh(pmb, "merge", "--out", tmp / "mAB", A, B)
        sh(pmb, "merge", "--out", tmp / "mC", C)
        sh(pmb, "compare", A, B, "--out", tmp / "aa", "--no-plots")
        # No swap of anyone else's is used: the regions stay resident.
        lines, tables = capture_wire(a.bin, "none")
        policy = (ROOT / "docs/policy-default.txt").read_text()
        out = a.out

        # rundir: a run, a rich one (four cases), a verify run, a merged one; one with the
        # files vm.sh adds and one made of special files.
        rich_cases = {"memfd-pageout-p256-d100-s50", "memfd-pageout-p256-d100-s50-vsecond-mapper",
                      "private-anon-pageout-p256-d100-s50", "shared-anon-cgroup-p256-d100-s50"}
        write(out, "rundir", "run", frame(run_parts(A)))
        write(out, "rundir", "rich", frame(run_parts(R, keep=2, cases=rich_cases)))
        write(out, "rundir", "verify", frame(run_parts(V)))
        write(out, "rundir", "merged", frame(run_parts(tmp / "mAB", keep=5)))
        m = json.loads(meta(A / "meta.json"))
        del m["host_noise"]
        parts = run_parts(A, keep=3)
        parts[0] = json.dumps(m, separators=(",", ":")) + "\n"
        parts[3] = json.dumps({"busy": True, "why": "vm.sh: the host ran 3 other guests"}) + "\n"
        parts[4] = "[   12.345678] BUG: Bad page state in process pmwork  pfn:1234\n"
        write(out, "rundir", "vm-files", frame(parts))
        write(out, "rundir", "special-files", frame(["@fifo", "@link:../run/cases.tsv", "@big", "@dir"]))

        # compare_gate: options, BASE, CAND, policy, noise floor.  Pairs of runs keep one
        # case (five measured samples a series: enough for a ratio), but for one seed.
        memfd = {"memfd-pageout-p256-d100-s50"}
        write(out, "compare_gate", "aa-floor-compare",
              frame(["compare\n", *run_parts(A, cases=memfd), *run_parts(B, cases=memfd), "",
                     floor(tmp / "aa")]))
        write(out, "compare_gate", "ac-policy", frame(["threshold=5 seed=2\n", *run_parts(A, keep=5), *run_parts(C, keep=5),
                                                       policy]))
        write(out, "compare_gate", "merged-default-out",
              frame(["compare default-out\n", *run_parts(tmp / "mAB", keep=5, cases=memfd),
                     *run_parts(tmp / "mC", keep=5, cases=memfd)]))
        write(out, "compare_gate", "rich-vs-run", frame(["\n", *run_parts(R, keep=2, cases=rich_cases),
                                                         *run_parts(A, keep=2, cases=memfd)]))

        # merge: two and three runs, rich with itself, a merged run with a run (refused).
        write(out, "merge", "two", frame([*run_parts(A, keep=4), *run_parts(B, keep=4)]))
        write(out, "merge", "three", frame([*run_parts(A, keep=3, cases=memfd), *run_parts(B, keep=3, cases=memfd),
                                            *run_parts(C, keep=3, cases=memfd)]))
        write(out, "merge", "rich-twice", frame([*run_parts(R, keep=1, cases=rich_cases)] * 2))
        write(out, "merge", "merged-and-run", frame([*run_parts(tmp / "mAB", keep=3, cases=memfd),
                                                     *run_parts(A, keep=3, cases=memfd)]))

        # model: one run, two runs, the rich run with options, a merged run.
        write(out, "model", "one", frame(["\n", *run_parts(A)]))
        write(out, "model", "two", frame(["seed=3\n", *run_parts(A, keep=5, cases=memfd),
                                          *run_parts(C, keep=5, cases=memfd)]))
        write(out, "model", "rich-ols", frame(["weight=ols residuals\n", *run_parts(R, keep=2, cases=rich_cases)]))
        write(out, "model", "merged", frame(["weight=relative\n", *run_parts(tmp / "mAB", keep=5, cases=memfd)]))
        # A merged run whose sources the model finds next to it: the target names its run
        # directories dir and dir2, so merged_from names them.
        parts = run_parts(tmp / "mAB", keep=5, cases=memfd)
        m = json.loads(parts[0])
        m["merged_from"] = ["dir2", "dir"]
        parts[0] = json.dumps(m, separators=(",", ":")) + "\n"
        write(out, "model", "merged-sources", frame(["\n", *parts, *run_parts(A, keep=3, cases=memfd)]))

        # policy: the default policy (every key of the format is in all-keys.policy, kept by hand).
        write(out, "policy", "default.policy", policy)

        # wire: protocol lines, then a pmscan table.
        for i, t in enumerate(tables):
            write(out, "wire", f"capture-{i}", frame(["".join(lines[3 * i:3 * i + 3]), t]))
        write(out, "wire", "lines", "".join(lines))
    finally:
        shutil.rmtree(tmp)
    print(f"mkseeds: seeds in {a.out}")


if __name__ == "__main__":
    main()
