"""pmscan, the timed reader: output format, --agree, bad inputs.

The target is a tiny Python child (not pmwork): it maps a region of one kind,
touches a known set of pages, prints the region's address and stops itself.
"""
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXIT_ERROR, EXIT_INCORRECT, EXIT_PASS, EXIT_SKIP, EXIT_USAGE

PAGE = os.sysconf("SC_PAGE_SIZE")
PMD_PAGES = 512
COLUMNS = ["method", "batch", "qd", "round", "warmup", "entries", "reads", "ns", "pmd_pos"]

CHILD = r"""
import ctypes, mmap, os, signal, sys
kind, pages = sys.argv[1], int(sys.argv[2])
touch = [int(x) for x in sys.argv[3].split(",") if x]
pageout = [int(x) for x in sys.argv[4].split(",") if x] if len(sys.argv) > 4 else []
size = pages * mmap.PAGESIZE
if kind == "private":
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
elif kind == "shared":
    m = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
else:
    fd = os.memfd_create("pmscan-test")
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
m.madvise(mmap.MADV_NOHUGEPAGE)
for i in touch:
    m[i * mmap.PAGESIZE] = 0x5a
for i in pageout:
    m.madvise(getattr(mmap, "MADV_PAGEOUT", 21), i * mmap.PAGESIZE, mmap.PAGESIZE)
print(hex(ctypes.addressof(ctypes.c_char.from_buffer(m))), flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


class Target:
    """A stopped child holding `pages` pages of `kind`, `touch` of them written."""

    def __init__(self, kind, pages, touch, pageout=()):
        self.kind, self.pages, self.touch = kind, pages, sorted(set(touch))
        args = [sys.executable, "-c", CHILD, kind, str(pages),
                ",".join(map(str, self.touch)), ",".join(map(str, pageout))]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        try:
            line = self.proc.stdout.readline().strip()
            assert line.startswith("0x"), f"target printed {line!r}"
            self.addr = int(line, 16)
            self._wait_stopped()
        except BaseException:
            self.close()
            raise

    def _wait_stopped(self):
        stat = Path(f"/proc/{self.proc.pid}/stat")
        for _ in range(500):
            if stat.read_text().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
            time.sleep(0.01)
        raise AssertionError("target did not stop")

    @property
    def pid(self):
        return self.proc.pid

    def args(self):
        return ["--pid", str(self.pid), "--addr", hex(self.addr), "--pages", str(self.pages)]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def target_factory():
    made = []

    def make(kind="private", pages=100, touch=(), pageout=()):
        t = Target(kind, pages, touch, pageout)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def pmscan(binary, *args, **kw):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                          timeout=kw.pop("timeout", 60), **kw)


def parse_tsv(out):
    lines = out.splitlines()
    assert lines[0] == "# pagemap-bench pmscan v1"
    assert lines[1].split("\t") == COLUMNS
    rows = []
    for line in lines[2:]:
        f = line.split("\t")
        assert len(f) == len(COLUMNS), line
        rows.append(dict(zip(COLUMNS, [f[0]] + [int(x) for x in f[1:]])))
    return rows


def parse_agree(out):
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        assert f[0] == "agree", line
        assert f[-1] in ("compare=raw", "compare=categories", "compare=none"), line
        res[f[1]] = {k: int(v) for k, v in (x.split("=") for x in f[2:-1])}
    return res


# --- output format -------------------------------------------------------

W, R, K = 2, 3, 5
SPECS = ["dense", "sparse", "batched:7", "batched:1", "batched:100"]


def timed(binary, target, seed=1, specs=SPECS):
    argv = target.args() + ["--warmup", W, "--rounds", R, "--sparse-reads", K, "--seed", seed]
    for s in specs:
        argv += ["--method", s]
    r = pmscan(binary, *argv)
    assert r.returncode == EXIT_PASS, r.stderr
    return parse_tsv(r.stdout)


def test_format_rows_and_counts(root, bins, target_factory):
    n = 100
    t = target_factory("private", n, touch=range(0, n, 2))
    rows = timed(bins / "pmscan", t)
    per_sample = {"dense": 1, "sparse": K, "batched:7": 1, "batched:1": 1, "batched:100": 1}
    assert len(rows) == (W + R) * sum(per_sample.values())
    # warm-up rounds first, then measured rounds, each numbered from 0
    flags = [r["warmup"] for r in rows]
    assert flags == sorted(flags, reverse=True)
    assert {r["round"] for r in rows if r["warmup"]} == set(range(W))
    assert {r["round"] for r in rows if not r["warmup"]} == set(range(R))
    for r in rows:
        assert r["qd"] == 1 and r["ns"] > 0
        if r["method"] == "dense":
            assert (r["batch"], r["entries"], r["reads"], r["pmd_pos"]) == (n, n, 1, -1)
        elif r["method"] == "batched":
            assert r["batch"] in (7, 1, 100) and r["entries"] == n and r["pmd_pos"] == -1
            assert r["reads"] == math.ceil(n / r["batch"])
        else:
            assert r["method"] == "sparse"
            assert (r["batch"], r["entries"], r["reads"]) == (1, 1, 1)
    # every variant sampled once per round
    for warm in (1, 0):
        for rnd in range(W if warm else R):
            got = [(r["method"], r["batch"]) for r in rows
                   if r["warmup"] == warm and r["round"] == rnd]
            assert sorted(set(got)) == sorted({("dense", n), ("sparse", 1), ("batched", 7),
                                               ("batched", 1), ("batched", 100)})
            assert got.count(("sparse", 1)) == K


def test_sparse_pmd_pos(root, bins, target_factory):
    # 100 pages starting mid-PMD: only 100 of the 512 positions are reachable
    n = 100
    t = target_factory("shared", n, touch=[0, 1, 50])
    rows = timed(bins / "pmscan", t, specs=["sparse"])
    reachable = {((t.addr >> 12) + i) % PMD_PAGES for i in range(n)}
    pos = [r["pmd_pos"] for r in rows]
    assert len(pos) == (W + R) * K
    assert all(0 <= p < PMD_PAGES for p in pos)
    assert set(pos) <= reachable


def test_seeded_and_interleaved(root, bins, target_factory):
    t = target_factory("private", 300, touch=range(10))
    key = lambda rows: [(r["method"], r["batch"], r["round"], r["warmup"], r["pmd_pos"])
                        for r in rows]
    a = timed(bins / "pmscan", t, seed=7)
    b = timed(bins / "pmscan", t, seed=7)
    c = timed(bins / "pmscan", t, seed=8)
    assert key(a) == key(b)
    assert key(a) != key(c)
    # the order of the variants changes from round to round
    orders = set()
    for rnd in range(R):
        seq = [(r["method"], r["batch"]) for r in a if not r["warmup"] and r["round"] == rnd]
        orders.add(tuple(dict.fromkeys(seq)))
    assert len(orders) > 1


# --- --agree --------------------------------------------------------------

ALL = ["dense", "sparse", "batched:1", "batched:3", "batched:64", "batched:1048576"]


def agree(binary, target, specs=ALL):
    argv = target.args() + ["--agree"]
    for s in specs:
        argv += ["--method", s]
    return pmscan(binary, *argv)


@pytest.mark.parametrize("kind", ["private", "shared", "memfd"])
def test_agree_counts(root, bins, target_factory, kind):
    n, touch = 600, [0, 1, 2, 3, 100, 511, 512, 513, 599] + list(range(200, 260))
    t = target_factory(kind, n, touch=touch)
    r = agree(bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stderr
    res = parse_agree(r.stdout)
    assert list(res) == ALL
    first = res["dense"]
    assert all(c == first for c in res.values())
    assert first["present"] == len(t.touch)
    assert first["none"] == n - len(t.touch)
    assert first["swapped"] == 0
    assert first["file"] == (0 if kind == "private" else len(t.touch))
    assert first["exclusive"] <= first["present"]
    if kind == "private":
        assert first["exclusive"] == len(t.touch)


@pytest.mark.parametrize("kind", ["private", "shared", "memfd"])
def test_agree_with_swap(root, bins, zram_swap, target_factory, kind):
    """Pages paged out to zram: every method returns the same entries.

    Private pages must read back as swapped.  Shared (shmem) pages read back
    as swapped on a kernel with the shmem PM_SWAP patch and as none on a stock
    one; both are accepted here, the oracle judges which is right.
    """
    n, touch = 300, list(range(0, 300, 3))
    out = touch[::2]
    t = target_factory(kind, n, touch=touch, pageout=out)
    r = agree(bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stderr
    res = parse_agree(r.stdout)
    first = res["dense"]
    assert all(c == first for c in res.values())
    if first["present"] == len(touch):
        pytest.skip("MADV_PAGEOUT swapped nothing out here")
    assert first["present"] == len(touch) - len(out)
    if kind == "private":
        assert first["swapped"] == len(out)
    else:
        assert first["swapped"] in (0, len(out))
    assert first["none"] + first["present"] + first["swapped"] == n


def test_asan_timed_and_agree(root, asan_bins, target_factory):
    t = target_factory("memfd", 700, touch=range(0, 700, 5))
    rows = timed(asan_bins / "pmscan", t)
    assert len(rows) == (W + R) * (4 + K)
    r = agree(asan_bins / "pmscan", t)
    assert r.returncode == EXIT_PASS, r.stderr
    assert parse_agree(r.stdout)["dense"]["present"] == 140


# --- --list and errors ----------------------------------------------------

def test_list(bins):
    r = pmscan(bins / "pmscan", "--list")
    assert r.returncode == EXIT_PASS, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    names = [f[0] for f in rows]
    assert names == sorted(names) and {"dense", "sparse", "batched"} <= set(names)
    for f in rows:
        assert len(f) == 3 and (f[2] == "ok" or f[2].startswith("skip: "))


@pytest.mark.parametrize("args", [
    [],
    ["--addr", "0x10000", "--pages", "10", "--method", "dense"],           # no --pid
    ["--pid", "1", "--pages", "10", "--method", "dense"],                  # no --addr
    ["--pid", "1", "--addr", "0x10000", "--method", "dense"],              # no --pages
    ["--pid", "1", "--addr", "0x10000", "--pages", "10"],                  # no --method
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "bogus"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "batched"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "batched:0"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "batched:1048577"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "batched:x"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "dense:4"],
    ["--pid", "1", "--addr", "0x10001", "--pages", "10", "--method", "dense"],
    ["--pid", "1", "--addr", "zz", "--pages", "10", "--method", "dense"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "0", "--method", "dense"],
    ["--pid", "0", "--addr", "0x10000", "--pages", "10", "--method", "dense"],
    ["--pid", "-5", "--addr", "0x10000", "--pages", "10", "--method", "dense"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "dense", "--rounds", "0"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "dense", "--cpu", "100000"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "dense", "--bogus"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "10", "--method", "dense", "extra"],
])
def test_bad_usage(bins, args):
    r = pmscan(bins / "pmscan", *args)
    assert r.returncode == EXIT_USAGE, (args, r.stderr)
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cpu_not_online(bins, target_factory):
    t = target_factory("private", 10)
    r = pmscan(bins / "pmscan", *t.args(), "--method", "dense", "--cpu", str(os.cpu_count() + 8))
    assert r.returncode == EXIT_USAGE, r.stderr


def _free_pid():
    limit = int(Path("/proc/sys/kernel/pid_max").read_text())
    for pid in range(limit - 1, 1, -1):
        if not Path(f"/proc/{pid}").exists():
            return pid
    pytest.skip("no free pid")


def test_pid_gone(bins):
    r = pmscan(bins / "pmscan", "--pid", _free_pid(), "--addr", "0x10000", "--pages", "10",
               "--method", "dense")
    assert r.returncode == EXIT_ERROR, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_not_root_skips(root, bins, target_factory):
    """As an unprivileged user, another user's pagemap is a skip, not an error."""
    t = target_factory("private", 10)
    r = pmscan(bins / "pmscan", *t.args(), "--method", "dense",
               preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
    if r.returncode == 126 or "Permission denied" in r.stderr and "pmscan:" not in r.stderr:
        pytest.skip("build/bin not executable by nobody")
    assert r.returncode == EXIT_SKIP, r.stderr
    assert r.stderr.startswith("skip: needs root")


CHURN = r"""
import ctypes, mmap, os, sys
pages = int(sys.argv[1])
os.sched_setaffinity(0, {int(sys.argv[2])})
m = mmap.mmap(-1, pages * mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
print(hex(ctypes.addressof(ctypes.c_char.from_buffer(m))), flush=True)
while True:
    for i in range(pages):
        m[i * mmap.PAGESIZE] = 1
    m.madvise(mmap.MADV_DONTNEED)
"""


def test_agree_catches_a_changing_region(root, bins):
    """A target that keeps faulting pages in and dropping them is caught: exit 2."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs: the target must run while pmscan reads")
    n = 4000
    p = subprocess.Popen([sys.executable, "-c", CHURN, str(n), str(cpus[0])],
                         stdout=subprocess.PIPE, text=True)
    try:
        addr = p.stdout.readline().strip()
        codes = []
        for _ in range(5):
            r = pmscan(bins / "pmscan", "--pid", p.pid, "--addr", addr, "--pages", n,
                       "--cpu", cpus[-1], "--method", "dense", "--method", "sparse", "--agree")
            codes.append(r.returncode)
            assert r.returncode in (EXIT_PASS, EXIT_INCORRECT), r.stderr
            assert "not stopped" in r.stderr
            if r.returncode == EXIT_INCORRECT:
                last = r.stdout.splitlines()[-1].split("\t")
                assert last[:2] == ["mismatch", "sparse"] and last[2].startswith("index=")
                assert int(last[2][6:]) < n
                assert last[3].startswith("want=0x") and last[4].startswith("got=0x")
                break
        assert EXIT_INCORRECT in codes
    finally:
        p.kill()
        p.wait(timeout=10)
        p.stdout.close()
