"""pmwork, the workload process: construction, the oracle, the protocol.

Every child is killed in a finally block; swap comes only from the
zram_swap fixture, which removes its device again.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EXIT_PASS, EXIT_SKIP, EXIT_USAGE, swaps

KINDS = ["memfd", "private-anon", "shared-anon"]
# Every kind pmwork has, in registry (name) order; tests/test_pmwork_more.py covers the others.
ALL_KINDS = ["file-disk", "memfd", "private-anon", "shared-anon", "sysv-shm", "thp-shmem", "tmpfs"]
SHMEM = {"memfd", "shared-anon"}
LAYOUTS = ["contiguous", "strided", "random"]
NONE, PRESENT, SWAPPED = 0, 1, 2
PAGES = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")
TIMEOUT = 30


# ---------------------------------------------------------------- driver

class Work:
    """One pmwork child, spoken to through the READY/STATE/EXIT protocol."""

    def __init__(self, binary, *args, preexec_fn=None):
        self.p = subprocess.Popen([str(binary), *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  preexec_fn=preexec_fn)
        self.ready = None

    def wait_stopped(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.p.pid, os.WUNTRACED | os.WNOHANG)
            if pid:
                if os.WIFSTOPPED(status):
                    return
                self.p.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"pmwork exited {self.p.returncode}: "
                                     f"{self.p.stderr.read().decode()}")
            time.sleep(0.01)
        raise AssertionError("pmwork did not stop")

    def start(self):
        line = self.p.stdout.readline().decode()
        assert line.startswith("READY "), (line, self.p.stderr.read1().decode())
        self.wait_stopped()
        self.ready = fields(line)
        return self.ready

    def state(self):
        os.kill(self.p.pid, signal.SIGCONT)
        self.p.stdin.write(b"STATE\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().decode()
        assert line.startswith("STATE "), line
        vec = self.p.stdout.read(self.ready["pages"])
        assert len(vec) == self.ready["pages"]
        self.wait_stopped()
        return fields(line), vec

    def exit(self):
        os.kill(self.p.pid, signal.SIGCONT)
        self.p.stdin.write(b"EXIT\n")
        self.p.stdin.flush()
        return self.p.wait(TIMEOUT)

    def kill(self):
        if self.p.returncode is None:
            try:
                self.p.kill()
                os.kill(self.p.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.p.wait(TIMEOUT)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            f.close()


def fields(line):
    out = {}
    for tok in line.split()[1:]:
        k, v = tok.split("=")
        out[k] = int(v, 0)
    return out


def run_work(binary, kind, pages=PAGES, **opts):
    args = ["--kind", kind, "--pages", str(pages)]
    for k, v in opts.items():
        args += [f"--{k}", str(v)]
    return Work(binary, *args)


# ------------------------------------------------- the layout rule, in Python

def pct_of(n, pct):
    return int(n * pct / 100 + 0.5)


def choose(layout, n, k):
    if layout == "contiguous":
        return list(range(k))
    if layout == "strided":
        return [j * n // k for j in range(k)]
    return None


def dirty_set(layout, n, dirty):
    return choose(layout, n, pct_of(n, dirty))


def swapped_set(layout, dirtied, swapped):
    pos = choose(layout, len(dirtied), pct_of(len(dirtied), swapped))
    return None if pos is None else [dirtied[j] for j in pos]


def positions(vec, state):
    return [i for i, s in enumerate(vec) if s == state]


# --------------------------------------------------- independent cross-checks

def smaps_swap_kb(pid, addr):
    """The Swap: line of the VMA starting at addr, from /proc/PID/smaps."""
    in_vma = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        m = re.match(r"^([0-9a-f]+)-[0-9a-f]+ ", line)
        if m:
            in_vma = int(m.group(1), 16) == addr
        elif in_vma and line.startswith("Swap:"):
            return int(line.split()[1])
    raise AssertionError(f"no VMA at {addr:#x} in smaps")


def backing_path(pid, kind, addr, pages):
    if kind == "memfd":
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/memfd:pmwork"):
                return f"/proc/{pid}/fd/{fd}"
        raise AssertionError("memfd not found in /proc/PID/fd")
    return f"/proc/{pid}/map_files/{addr:x}-{addr + pages * PAGE:x}"


def data_pages(path, pages):
    """Pages that SEEK_DATA/SEEK_HOLE call data, walked from Python."""
    out = set()
    fd = os.open(path, os.O_RDONLY)
    try:
        off = 0
        while off < pages * PAGE:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno == 6:  # ENXIO: no data after off
                    break
                raise
            h = os.lseek(fd, d, os.SEEK_HOLE)
            out.update(range(d // PAGE, min(pages, -(-h // PAGE))))
            off = h
    finally:
        os.close(fd)
    return out


def check_construction(w, kind, layout, dirty):
    ready = w.ready
    k = pct_of(PAGES, dirty)
    assert ready["pages"] == PAGES and ready["page_size"] == PAGE
    assert (ready["none"], ready["present"], ready["swapped"]) == (PAGES - k, k, 0)
    assert ready["contradictions"] == 0
    st, vec = w.state()
    assert (st["none"], st["present"], st["swapped"]) == (PAGES - k, k, 0)
    present = positions(vec, PRESENT)
    want = dirty_set(layout, PAGES, dirty)
    if want is not None:
        assert present == want
    assert len(present) == k
    return present


# ------------------------------------------------------------------- tests

def test_list(bins):
    r = subprocess.run([bins / "pmwork", "--list"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_PASS, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert [row[0] for row in rows] == ALL_KINDS
    for row in rows:
        assert len(row) == 3 and (row[2] == "ok" or row[2].startswith("skip: "))


@pytest.mark.parametrize("args", [
    ["--kind", "nosuch", "--pages", "4"],
    ["--kind", "memfd", "--pages", "0"],
    ["--kind", "memfd", "--pages", "4", "--dirty", "150%"],
    ["--kind", "memfd", "--pages", "4", "--layout", "diagonal"],
    ["--kind", "memfd", "--pages", "4", "--swapout", "sometimes"],
    ["--kind", "memfd"],
    ["--pages", "4"],
    ["--kind", "memfd", "--pages", "4", "--bogus"],
], ids=["kind", "pages0", "dirty150", "layout", "swapout", "nopages",
        "nokind", "option"])
def test_bad_input(bins, args):
    r = subprocess.run([bins / "pmwork", *args], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_USAGE
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr


def test_pageout_without_swap_skips(bins):
    if swaps():
        pytest.skip("swap is active on this machine: " + ", ".join(swaps()))
    r = subprocess.run([bins / "pmwork", "--kind", "memfd", "--pages", "8",
                        "--swapout", "pageout"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_SKIP
    assert r.stdout == "SKIP no active swap\n"


@pytest.mark.parametrize("variant", ["rel", "asan"])
@pytest.mark.parametrize("dirty", [0, 50, 100])
@pytest.mark.parametrize("kind", KINDS)
def test_no_swapout_counts(request, kind, dirty, variant):
    d = request.getfixturevalue("bins" if variant == "rel" else "asan_bins")
    for layout in LAYOUTS:
        w = run_work(d / "pmwork", kind, dirty=f"{dirty}%", layout=layout, seed=7)
        try:
            w.start()
            present = check_construction(w, kind, layout, dirty)
            if kind in SHMEM:
                path = backing_path(w.p.pid, kind, w.ready["addr"], PAGES)
                assert data_pages(path, PAGES) == set(present)
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


def test_unknown_command_and_eof(bins):
    w = run_work(bins / "pmwork", "memfd", pages=16, dirty=50)
    try:
        w.start()
        os.kill(w.p.pid, signal.SIGCONT)
        w.p.stdin.write(b"FROB\n" + b"x" * 1000 + b"\n")
        w.p.stdin.flush()
        assert w.p.stdout.readline() == b"ERROR unknown command\n"
        assert w.p.stdout.readline() == b"ERROR unknown command\n"
        st, vec = w.state()
        assert st["present"] == 8 and len(vec) == 16
        os.kill(w.p.pid, signal.SIGCONT)
        w.p.stdin.close()
        assert w.p.wait(TIMEOUT) == EXIT_PASS
    finally:
        w.kill()


def test_dies_with_parent(bins):
    """PR_SET_PDEATHSIG: a stopped pmwork must not outlive its parent."""
    sh = subprocess.Popen(["sh", "-c", f"{bins / 'pmwork'} --kind memfd --pages 8 "
                           "</dev/null >/dev/null & echo $!; sleep 0.5"],
                          stdout=subprocess.PIPE, text=True)
    try:
        pid = int(sh.stdout.readline())
        assert sh.wait(TIMEOUT) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                break
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("pmwork outlived its parent")
    finally:
        sh.kill()
        sh.wait(TIMEOUT)
        sh.stdout.close()


def test_same_seed_same_random_set(bins):
    sets = []
    for seed in (3, 3, 4):
        w = run_work(bins / "pmwork", "private-anon", dirty=30, seed=seed)
        try:
            w.start()
            sets.append(positions(w.state()[1], PRESENT))
        finally:
            w.kill()
    assert sets[0] == sets[1] != sets[2]
    assert len(sets[0]) == pct_of(PAGES, 30)


@pytest.mark.parametrize("swapped", [25, 50, 100])
@pytest.mark.parametrize("kind", KINDS)
def test_pageout(bins, zram_swap, kind, swapped):
    dirty = 60
    for layout in LAYOUTS:
        w = run_work(bins / "pmwork", kind, dirty=dirty, swapout="pageout",
                     swapped=f"{swapped}%", layout=layout, seed=11)
        try:
            ready = w.start()
            ndirty = pct_of(PAGES, dirty)
            nswap = pct_of(ndirty, swapped)
            assert ready["pageout_missed"] == 0, ready
            assert ready["pageout_extra"] == 0, ready
            assert ready["contradictions"] == 0, ready
            assert 1 <= ready["pageout_passes"] <= 4, ready
            assert ready["swapped"] == nswap, ready
            assert ready["present"] == ndirty - nswap, ready
            assert ready["none"] == PAGES - ndirty, ready
            assert smaps_swap_kb(w.p.pid, ready["addr"]) == nswap * PAGE // 1024
            st, vec = w.state()
            assert st["swapped"] == nswap
            swp = positions(vec, SWAPPED)
            dirtied = sorted(positions(vec, SWAPPED) + positions(vec, PRESENT))
            want_dirty = dirty_set(layout, PAGES, dirty)
            if want_dirty is not None:
                assert dirtied == want_dirty
                assert swp == swapped_set(layout, want_dirty, swapped)
            assert len(swp) == nswap and set(swp) <= set(dirtied)
            if kind in SHMEM:
                path = backing_path(w.p.pid, kind, ready["addr"], PAGES)
                assert data_pages(path, PAGES) == set(dirtied)
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


def test_asan_pageout(asan_bins, zram_swap):
    for kind in KINDS:
        w = run_work(asan_bins / "pmwork", kind, dirty=100, swapout="pageout",
                     swapped=50, layout="strided")
        try:
            ready = w.start()
            assert ready["swapped"] == PAGES // 2
            assert ready["pageout_missed"] == ready["pageout_extra"] == 0
            assert w.state()[0]["swapped"] == PAGES // 2
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


# ------------------------------------------------------------ swapout cgroup

def _memcg_parent():
    """(directory for a new memory cgroup, v1 or v2), or skip."""
    v2 = Path("/sys/fs/cgroup")
    ctl = v2 / "cgroup.controllers"
    if ctl.exists() and "memory" in ctl.read_text().split() and \
            "memory" in (v2 / "cgroup.subtree_control").read_text().split():
        return v2, 2
    v1 = Path("/sys/fs/cgroup/memory")
    if (v1 / "memory.limit_in_bytes").exists():
        return v1, 1
    pytest.skip("no usable memory cgroup (v2 memory controller or v1 hierarchy)")


@pytest.fixture
def memcg(root):
    """A fresh memory cgroup limited to 4 MiB, removed afterwards."""
    parent, ver = _memcg_parent()
    cg = parent / f"pmwork-test-{os.getpid()}"
    cg.mkdir()
    try:
        limit = str(4 << 20)
        (cg / ("memory.max" if ver == 2 else "memory.limit_in_bytes")).write_text(limit)
        yield cg
    finally:
        for _ in range(50):
            try:
                cg.rmdir()
                break
            except OSError:
                time.sleep(0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_cgroup_reclaim(bins, zram_swap, memcg, kind):
    pages = 4096  # 16 MiB against a 4 MiB limit
    procs = str(memcg / "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write(str(os.getpid()))

    w = Work(bins / "pmwork", "--kind", kind, "--pages", str(pages),
             "--swapout", "cgroup", preexec_fn=enter)
    try:
        ready = w.start()
        assert ready["contradictions"] == 0, ready
        assert ready["none"] == 0 and ready["present"] + ready["swapped"] == pages
        assert ready["swapped"] > pages // 2, ready
        assert ready["pageout_missed"] == ready["pageout_extra"] == 0
        assert smaps_swap_kb(w.p.pid, ready["addr"]) == ready["swapped"] * PAGE // 1024
        st, vec = w.state()
        assert st["swapped"] == vec.count(SWAPPED)
        if kind in SHMEM:
            path = backing_path(w.p.pid, kind, ready["addr"], pages)
            assert data_pages(path, pages) == set(range(pages))
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
