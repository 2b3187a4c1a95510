"""pmscan's uring, scan-ioctl and userspace methods, --agree compare modes, --classify.

Targets are the stopped Python children of test_pmscan.py; pages are paged
out to a zram device of our own (conftest's zram_swap) with MADV_PAGEOUT.
"""
import math
import os
import platform
import subprocess
import sys

import pytest

from conftest import EXIT_ERROR, EXIT_INCORRECT, EXIT_PASS, EXIT_USAGE
from test_pmscan import CHURN, CHILD, PAGE, Target, parse_agree, parse_tsv, pmscan, target_factory  # noqa: F401 (fixture)

W, R = 1, 3
NEW = ["uring:7:3", "uring:64", "uring:1:1", "uring:1000:256", "scan-ioctl", "userspace"]
ALL = ["dense", "sparse", "batched:64", "uring:1:1", "uring:13:4", "uring:4096:8",
       "scan-ioctl", "userspace"]
COMPARE = {"dense": "raw", "sparse": "raw", "batched": "raw", "uring": "raw",
           "scan-ioctl": "categories", "userspace": "none"}


def timed(binary, target, specs, **kw):
    argv = list(target.args()) + ["--warmup", W, "--rounds", R, "--sparse-reads", 4]
    for s in specs:
        argv += ["--method", s]
    for k, v in kw.items():
        argv += ["--" + k, v]
    r = pmscan(binary, *argv)
    assert r.returncode == EXIT_PASS, r.stderr
    return parse_tsv(r.stdout)


def agree(binary, target, specs=ALL):
    argv = target.args() + ["--agree"]
    for s in specs:
        argv += ["--method", s]
    return pmscan(binary, *argv)


def agree_lines(out):
    """spec -> (counts, compare) from --agree output; compare is the trailing field."""
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        assert f[0] == "agree", line
        assert f[-1].startswith("compare="), line
        keys = [x.split("=")[0] for x in f[2:]]
        assert keys == ["none", "present", "swapped", "file", "soft_dirty", "exclusive",
                        "compare"], line
        res[f[1]] = ({k: int(v) for k, v in (x.split("=") for x in f[2:-1])},
                     f[-1].split("=", 1)[1])
    return res


def classify(binary, target, spec):
    r = subprocess.run([str(binary), *target.args(), "--classify", spec],
                       capture_output=True, timeout=60)
    assert r.returncode == EXIT_PASS, r.stderr
    return r.stdout


def states(out):
    return {s: (c["none"], c["present"], c["swapped"]) for s, (c, _) in out.items()}


def kernel_at_least(major, minor):
    rel = platform.release().split(".")
    return (int(rel[0]), int(rel[1].split("-")[0])) >= (major, minor)


# --- output shape ---------------------------------------------------------

def test_new_methods_rows(root, bins, target_factory):
    n = 1000
    t = target_factory("memfd", n, touch=range(0, n, 4))
    rows = timed(bins / "pmscan", t, NEW)
    assert len(rows) == (W + R) * len(NEW)
    seen = set()
    for r in rows:
        assert r["entries"] == n and r["pmd_pos"] == -1 and r["ns"] > 0
        seen.add((r["method"], r["batch"], r["qd"]))
        if r["method"] == "uring":
            assert r["reads"] == math.ceil(n / r["batch"])
        elif r["method"] == "scan-ioctl":
            assert (r["batch"], r["qd"]) == (n, 1) and r["reads"] >= 1
        else:
            assert r["method"] == "userspace"
            assert (r["batch"], r["qd"]) == (n, 1) and r["reads"] >= 1
    assert seen == {("uring", 7, 3), ("uring", 64, 8), ("uring", 1, 1), ("uring", 1000, 256),
                    ("scan-ioctl", n, 1), ("userspace", n, 1)}


def test_uring_qd_beyond_reads(root, bins, target_factory):
    """More room in flight than reads: one pass still issues ceil(N/B) reads."""
    t = target_factory("private", 10, touch=[1])
    rows = timed(bins / "pmscan", t, ["uring:3:256", "uring:1048576:2"])
    assert {(r["batch"], r["qd"], r["reads"]) for r in rows} == {(3, 256, 4), (1048576, 2, 1)}


def test_scan_ioctl_continues_from_walk_end(root, bins, target_factory):
    """Every other page touched: 12000 regions, more than one call's vector holds."""
    n = 12000
    t = target_factory("private", n, touch=range(0, n, 2))
    rows = timed(bins / "pmscan", t, ["scan-ioctl"])
    assert all(r["entries"] == n and r["reads"] >= 3 for r in rows)
    r = agree(bins / "pmscan", t, ["dense", "scan-ioctl"])
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = agree_lines(r.stdout)
    assert res["scan-ioctl"][0]["present"] == n // 2


# --- --agree --------------------------------------------------------------

@pytest.mark.parametrize("kind", ["private", "shared", "memfd"])
def test_agree_all_methods(root, bins, target_factory, kind):
    n, touch = 700, [0, 1, 2, 511, 512, 699] + list(range(100, 180))
    t = target_factory(kind, n, touch=touch)
    r = agree(bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = agree_lines(r.stdout)
    assert list(res) == ALL
    for spec, (_, cmp) in res.items():
        assert cmp == COMPARE[spec.split(":")[0]]
    assert set(states(res).values()) == {(n - len(t.touch), len(t.touch), 0)}
    dense = res["dense"][0]
    for spec in ALL:
        if COMPARE[spec.split(":")[0]] == "raw":
            assert res[spec][0] == dense
    assert res["scan-ioctl"][0]["file"] == dense["file"]
    assert res["userspace"][0]["file"] == 0     # pseudo-entries: state only


@pytest.mark.parametrize("kind", ["private", "shared", "memfd"])
def test_agree_with_swap(root, bins, zram_swap, target_factory, kind):
    """uring agrees raw, scan-ioctl on categories, userspace sees swapped shmem."""
    n, touch = 400, list(range(0, 400, 3))
    out = touch[::2]
    t = target_factory(kind, n, touch=touch, pageout=out)
    r = agree(bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = agree_lines(r.stdout)
    dense = res["dense"][0]
    if dense["present"] == len(touch):
        pytest.skip("MADV_PAGEOUT swapped nothing out here")
    assert dense["present"] == len(touch) - len(out)
    for spec in ("uring:1:1", "uring:13:4", "uring:4096:8"):
        assert res[spec][0] == dense
    assert res["scan-ioctl"][0]["swapped"] == dense["swapped"]
    assert res["scan-ioctl"][0]["file"] == dense["file"]
    # the userspace alternative: every paged-out page is swapped, whatever read() says
    us = res["userspace"][0]
    assert (us["none"], us["present"], us["swapped"]) == (n - len(touch), len(touch) - len(out),
                                                           len(out))
    if kind == "private":
        assert dense["swapped"] == len(out)
    else:
        # stock shmem (this 6.18 host): read() says none where userspace says
        # swapped; with the PM_SWAP patch both say swapped
        assert dense["swapped"] in (0, len(out))
        if dense["swapped"] == 0:
            assert dense["none"] == n - len(touch) + len(out)
        print(f"shmem {kind}: read() swapped={dense['swapped']}, userspace swapped={us['swapped']}")
    cls = classify(bins / "pmscan", t, "userspace")
    want = bytes(2 if i in out else 1 if i in touch else 0 for i in range(n))
    assert cls == want


def test_agree_oracle_only(root, bins, target_factory):
    """userspace alone has nothing to be compared with: it prints its counts."""
    t = target_factory("shared", 50, touch=[3, 4])
    r = agree(bins / "pmscan", t, ["userspace"])
    assert r.returncode == EXIT_PASS, r.stderr
    assert agree_lines(r.stdout)["userspace"] == (
        {"none": 48, "present": 2, "swapped": 0, "file": 0, "soft_dirty": 0, "exclusive": 0},
        "none")


def test_agree_categories_only(root, bins, target_factory):
    t = target_factory("memfd", 50, touch=[3, 4])
    r = agree(bins / "pmscan", t, ["userspace", "scan-ioctl"])
    assert r.returncode == EXIT_PASS, r.stderr
    res = agree_lines(r.stdout)
    assert list(res) == ["userspace", "scan-ioctl"]
    assert res["scan-ioctl"][1] == "categories" and res["scan-ioctl"][0]["file"] == 2


@pytest.mark.parametrize("spec", ["scan-ioctl", "uring:64:4"])
def test_agree_catches_a_changing_region(root, bins, spec):
    """A region that changes between the reads is a mismatch (exit 2) for these too."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs: the target must run while pmscan reads")
    n = 4000
    p = subprocess.Popen([sys.executable, "-c", CHURN, str(n), str(cpus[0])],
                         stdout=subprocess.PIPE, text=True)
    try:
        addr = p.stdout.readline().strip()
        for _ in range(10):
            r = pmscan(bins / "pmscan", "--pid", p.pid, "--addr", addr, "--pages", n,
                       "--cpu", cpus[-1], "--method", "dense", "--method", spec, "--agree")
            assert r.returncode in (EXIT_PASS, EXIT_INCORRECT), r.stderr
            if r.returncode == EXIT_INCORRECT:
                last = r.stdout.splitlines()[-1].split("\t")
                assert last[:2] == ["mismatch", spec]
                assert last[-1] == "compare=" + COMPARE[spec.split(":")[0]]
                break
        else:
            pytest.fail("10 scans of a churning region all agreed")
    finally:
        p.kill()
        p.wait(timeout=10)
        p.stdout.close()


# --- userspace across VMAs -------------------------------------------------

SPLIT = CHILD.replace("print(hex(", """for a, b in protect:
    ctypes.CDLL(None, use_errno=True).mprotect(
        ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(m)) + a * mmap.PAGESIZE),
        ctypes.c_size_t((b - a) * mmap.PAGESIZE), 1)
print(hex(""").replace("pageout = [", "protect = [tuple(map(int, x.split('-'))) for x in "
                         "os.environ.get('PMS_PROTECT', '').split(',') if x]\npageout = [")


class SplitTarget(Target):
    """A Target whose region is split into several VMAs by mprotect(PROT_READ)."""

    def __init__(self, kind, pages, touch, pageout, protect):
        env = dict(os.environ, PMS_PROTECT=",".join(f"{a}-{b}" for a, b in protect))
        self.kind, self.pages, self.touch = kind, pages, sorted(set(touch))
        args = [sys.executable, "-c", SPLIT, kind, str(pages),
                ",".join(map(str, self.touch)), ",".join(map(str, pageout))]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = self.proc.stdout.readline().strip()
            assert line.startswith("0x"), f"target printed {line!r}"
            self.addr = int(line, 16)
            self._wait_stopped()
        except BaseException:
            self.close()
            raise


@pytest.mark.parametrize("kind", ["shared", "memfd"])
def test_userspace_split_vmas_and_offsets(root, bins, zram_swap, kind):
    """Three VMAs with file offsets 0, 100 and 200 pages; the range starts inside the first."""
    n = 300
    touch = list(range(0, n, 2))
    out = [i for i in touch if i % 6 == 0]
    t = SplitTarget(kind, n, touch, out, [(100, 200)])
    try:
        maps = open(f"/proc/{t.pid}/maps").read()
        vmas = [l for l in maps.splitlines()
                if t.addr <= int(l.split("-")[0], 16) < t.addr + n * PAGE]
        assert len(vmas) == 3, maps
        first = 37
        sub = Target.__new__(Target)
        sub.proc, sub.pages, sub.addr = t.proc, n - first - 11, t.addr + first * PAGE
        cls = classify(bins / "pmscan", sub, "userspace")
        dense = classify(bins / "pmscan", sub, "dense")
        if 2 not in cls and 1 in dense and dense.count(1) == len([i for i in touch
                                                                  if first <= i < n - 11]):
            pytest.skip("MADV_PAGEOUT swapped nothing out here")
        want = bytes(2 if i in out else 1 if i in touch else 0
                     for i in range(first, n - 11))
        assert cls == want
    finally:
        t.close()


# --- --classify -------------------------------------------------------------

@pytest.mark.parametrize("spec", ["dense", "sparse", "batched:5", "uring:9:2", "scan-ioctl",
                                  "userspace"])
def test_classify(root, bins, target_factory, spec):
    n, touch = 333, [0, 5, 6, 7, 100, 332]
    t = target_factory("memfd", n, touch=touch)
    out = classify(bins / "pmscan", t, spec)
    assert out == bytes(1 if i in touch else 0 for i in range(n))


@pytest.mark.parametrize("kind", ["private", "memfd"])
def test_asan_new_methods(root, asan_bins, zram_swap, target_factory, kind):
    n = 900
    touch = list(range(0, n, 3))
    out = touch[::3]
    t = target_factory(kind, n, touch=touch, pageout=out)
    rows = timed(asan_bins / "pmscan", t, NEW)
    assert len(rows) == (W + R) * len(NEW)
    r = agree(asan_bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = agree_lines(r.stdout)
    assert res["userspace"][0]["present"] == res["dense"][0]["present"]
    cls = classify(asan_bins / "pmscan", t, "userspace")
    assert len(cls) == n and set(cls) <= {0, 1, 2}


# --- probes and bad input ---------------------------------------------------

def test_list_probes(bins):
    r = pmscan(bins / "pmscan", "--list")
    assert r.returncode == EXIT_PASS, r.stderr
    rows = {f[0]: f for f in (l.split("\t") for l in r.stdout.splitlines())}
    assert {"uring", "scan-ioctl", "userspace"} <= set(rows)
    # The absence of PAGEMAP_SCAN (ENOTTY/EINVAL) cannot be produced on a 6.7+ host.
    if kernel_at_least(6, 7):
        assert rows["scan-ioctl"][2] == "ok"
    else:
        assert rows["scan-ioctl"][2] == "skip: no PAGEMAP_SCAN (Linux < 6.7)"
    assert rows["uring"][2] == "ok" or rows["uring"][2].startswith("skip: ")
    if os.geteuid() == 0:
        assert rows["uring"][2] == "ok", "io_uring is available on the CI hosts"
        assert rows["userspace"][2] == "ok"


BASE = ["--pid", "1", "--addr", "0x10000", "--pages", "10"]


@pytest.mark.parametrize("args", [
    ["--method", "uring"],
    ["--method", "uring:0"],
    ["--method", "uring:8:0"],
    ["--method", "uring:8:999"],
    ["--method", "uring:8:257"],
    ["--method", "uring:8:"],
    ["--method", "uring:8:x"],
    ["--method", "uring:8:8:8"],
    ["--method", "uring:1048577:8"],
    ["--method", "uring:" + "0" * 30 + "1"],
    ["--method", "batched:8:8"],
    ["--method", "scan-ioctl:4"],
    ["--method", "userspace:1"],
    ["--classify", "bogus"],
    ["--classify", "dense", "--method", "dense"],
    ["--classify", "dense", "--agree"],
    ["--classify", "dense", "--classify", "dense"],
    ["--classify"],
])
def test_bad_specs(bins, args):
    r = pmscan(bins / "pmscan", *BASE, *args)
    assert r.returncode == EXIT_USAGE, (args, r.stderr)
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_uring_default_qd(root, bins, target_factory):
    t = target_factory("private", 20)
    rows = timed(bins / "pmscan", t, ["uring:5"])
    assert {(r["batch"], r["qd"], r["reads"]) for r in rows} == {(5, 8, 4)}


@pytest.mark.parametrize("binary", ["bin", "asan"])
@pytest.mark.parametrize("spec", ["uring:3:2", "uring:16", "scan-ioctl", "userspace"])
def test_short_read_is_an_error(root, bins, asan_bins, target_factory, binary, spec):
    """A range running past the end of user space: reads come back short, exit 3."""
    t = target_factory("private", 4, touch=[0])
    exe = (bins if binary == "bin" else asan_bins) / "pmscan"
    argv = ["--pid", t.pid, "--addr", "0x7fffffffe000", "--pages", 10, "--rounds", 1,
            "--warmup", 0]
    if pmscan(exe, *argv, "--method", "dense").returncode != EXIT_ERROR:
        pytest.skip("pagemap reads past 47 bits here (5-level paging?)")
    r = pmscan(exe, *argv, "--method", spec)
    assert r.returncode == EXIT_ERROR, r.stderr
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
