"""pmwork's further kinds (tmpfs, sysv-shm, file-disk, thp-shmem), --touch read,
views (second-mapper, fork-child) and the step commands (FAULT, PAGEOUT,
REMOVE, SWAPIN).

Reuses the driver of test_pmwork.py.  Every child is killed in a finally
block; swap comes only from the zram_swap fixture; files go to private
directories that are removed again.
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EXIT_PASS, EXIT_SKIP
from test_pmwork import (NONE, PAGE, PRESENT, SWAPPED, TIMEOUT, Work, data_pages,
                         pct_of, positions, smaps_swap_kb)

NEW_KINDS = ["file-disk", "sysv-shm", "thp-shmem", "tmpfs"]
ALL_KINDS = sorted(NEW_KINDS + ["memfd", "private-anon", "shared-anon"])
# Kinds whose pages go to swap; file-disk pages are written back instead.
SWAPPING = ["memfd", "private-anon", "shared-anon", "sysv-shm", "tmpfs"]
PAGES = 1024  # two 2 MiB blocks, so that thp-shmem is all huge pages
DIRTY, SWAPPED_PCT = 60, 50
PM_SWAP, PM_PRESENT, PM_EXCLUSIVE = 1 << 62, 1 << 63, 1 << 56
PFN_MASK = (1 << 55) - 1
PAGE_KB = PAGE // 1024


# ---------------------------------------------------------------- driver

def parse(line):
    """Keys of a protocol line; integers where they are integers."""
    out = {}
    for tok in line.split()[1:]:
        k, v = tok.split("=", 1)
        try:
            out[k] = int(v, 0)
        except ValueError:
            out[k] = v
    return out


class More(Work):
    """Work, plus READY keys that are not integers and the step commands."""

    def start(self):
        line = self.p.stdout.readline().decode()
        if line.startswith("SKIP "):
            assert self.p.wait(TIMEOUT) == EXIT_SKIP
            pytest.skip(line[5:].strip())
        assert line.startswith("READY "), (line, self.p.stderr.read1().decode())
        self.wait_stopped()
        self.ready = parse(line)
        return self.ready

    def cmd(self, name):
        """A command that answers like STATE; returns (extra line or None, counts, vector)."""
        os.kill(self.p.pid, signal.SIGCONT)
        self.p.stdin.write(name.encode() + b"\n")
        self.p.stdin.flush()
        extra = None
        line = self.p.stdout.readline().decode()
        if not line.startswith("STATE "):
            extra = line
            line = self.p.stdout.readline().decode()
        assert line.startswith("STATE "), (name, extra, line)
        vec = self.p.stdout.read(self.ready["pages"])
        assert len(vec) == self.ready["pages"]
        self.wait_stopped()
        return (parse(extra) if extra else None), parse(line), vec


def work(binary, kind, pages=PAGES, **opts):
    args = ["--kind", kind, "--pages", str(pages)]
    for k, v in opts.items():
        args += [f"--{k}", str(v)]
    return More(binary, *args)


def counts(st):
    return st["none"], st["present"], st["swapped"]


@pytest.fixture
def dirs(monkeypatch):
    """Private PMB_TMPFS (on /dev/shm) and PMB_DISKDIR (on /var/tmp) directories."""
    made = []
    for env, parent in (("PMB_TMPFS", "/dev/shm"), ("PMB_DISKDIR", "/var/tmp")):
        if not os.path.isdir(parent):
            continue
        d = tempfile.mkdtemp(prefix="pmwork-test-", dir=parent)
        made.append(d)
        monkeypatch.setenv(env, d)
    yield made
    for d in made:
        left = os.listdir(d)
        shutil.rmtree(d, ignore_errors=True)
        assert left == [], f"{d}: left behind {left}"


def sysv_segments(cpid):
    """SysV segments that process cpid created, from /proc/sysvipc/shm."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()
    head = rows[0].split()
    col = head.index("cpid")
    return [r for r in rows[1:] if int(r.split()[col]) == cpid]


def sysv_swap_bytes(cpid):
    """The swap column of the one segment cpid created."""
    head = Path("/proc/sysvipc/shm").read_text().splitlines()[0].split()
    (row,) = sysv_segments(cpid)
    return int(row.split()[head.index("swap")])


def swap_kb(w, kind, addr):
    """Swap of the region as smaps accounts it (and, for SysV, /proc/sysvipc/shm)."""
    kb = smaps_swap_kb(w.p.pid, addr)
    if kind == "sysv-shm":
        assert sysv_swap_bytes(w.p.pid) // 1024 == kb
    return kb


def thp_mounts():
    return [l for l in Path("/proc/self/mountinfo").read_text().splitlines()
            if "pmwork-thp" in l]


def thp_dirs():
    return sorted(p.name for p in Path("/tmp").glob("pmwork-thp-*"))


def vma(pid, addr):
    """The smaps fields of the VMA at addr, in kB."""
    out, in_vma = {}, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        m = re.match(r"^([0-9a-f]+)-[0-9a-f]+ ", line)
        if m:
            if in_vma:
                break
            in_vma = int(m.group(1), 16) == addr
        elif in_vma:
            k, v = line.split(":", 1)
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    assert out, f"no VMA at {addr:#x} in /proc/{pid}/smaps"
    return out


def pagemap(pid, addr, pages):
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(addr // PAGE * 8)
        raw = f.read(pages * 8)
    assert len(raw) == pages * 8
    return struct.unpack(f"{pages}Q", raw)


def proc_state(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def gone(pid):
    try:
        return proc_state(pid) == "Z"
    except FileNotFoundError:
        return True


def expected(kind, dirty=DIRTY):
    k = pct_of(PAGES, 100 if kind == "thp-shmem" else dirty)
    return k, pct_of(k, SWAPPED_PCT)


# ------------------------------------------------------------------- kinds

def test_tmpfs_without_tmpfs_skips(bins, tmp_path):
    """PMB_TMPFS naming a directory that is not tmpfs is a skip with the reason."""
    env = dict(os.environ, PMB_TMPFS=str(tmp_path))
    if subprocess.run(["stat", "-f", "-c", "%T", str(tmp_path)],
                      capture_output=True, text=True).stdout.strip() == "tmpfs":
        pytest.skip(f"{tmp_path} is itself on tmpfs")
    r = subprocess.run([bins / "pmwork", "--kind", "tmpfs", "--pages", "4"], env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_SKIP
    assert r.stdout.startswith("SKIP no tmpfs mounted (set PMB_TMPFS)")


@pytest.mark.parametrize("variant", ["rel", "asan"])
@pytest.mark.parametrize("kind", NEW_KINDS)
def test_new_kind_no_swapout(request, root, dirs, kind, variant):
    d = request.getfixturevalue("bins" if variant == "rel" else "asan_bins")
    before_thp = thp_dirs()
    w = work(d / "pmwork", kind, dirty=100 if kind == "thp-shmem" else DIRTY,
             layout="strided", seed=5)
    try:
        ready = w.start()
        k, _ = expected(kind)
        assert counts(ready) == (PAGES - k, k, 0), ready
        assert ready["contradictions"] == 0
        assert ready["view_pid"] == w.p.pid and ready["view_addr"] == ready["addr"]
        _, st, vec = w.cmd("STATE")
        present = positions(vec, PRESENT)
        assert present == [j * PAGES // k for j in range(k)]
        if kind != "thp-shmem":
            assert ready["thp_pages"] == 0
        if kind == "sysv-shm":
            assert len(sysv_segments(w.p.pid)) == 1
        if kind != "file-disk":
            path = f"/proc/{w.p.pid}/map_files/{ready['addr']:x}-{ready['addr'] + PAGES * PAGE:x}"
            assert data_pages(path, PAGES) == set(present)
        if kind == "thp-shmem":
            assert ready["thp_pages"] > 0, ready
            assert thp_mounts() == []
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
    if kind == "sysv-shm":
        assert sysv_segments(w.p.pid) == []
    assert thp_mounts() == [] and thp_dirs() == before_thp


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_new_kind_pageout(bins, zram_swap, dirs, kind):
    # thp-shmem: only whole 2 MiB blocks page out exactly (see docs/workloads.md)
    for layout in ("contiguous",) if kind == "thp-shmem" else ("contiguous", "random"):
        w = work(bins / "pmwork", kind, dirty=100 if kind == "thp-shmem" else DIRTY,
                 swapout="pageout", swapped=SWAPPED_PCT, layout=layout, seed=9)
        try:
            ready = w.start()
            k, s = expected(kind)
            assert ready["pageout_missed"] == 0 and ready["pageout_extra"] == 0, ready
            assert ready["contradictions"] == 0, ready
            if kind == "file-disk":
                # written back and dropped: none in truth, nothing in swap
                assert counts(ready) == (PAGES - k + s, k - s, 0), ready
                assert smaps_swap_kb(w.p.pid, ready["addr"]) == 0
            else:
                assert counts(ready) == (PAGES - k, k - s, s), ready
                assert swap_kb(w, kind, ready["addr"]) == s * PAGE // 1024
            _, st, vec = w.cmd("STATE")
            assert counts(st) == counts(ready)
            if layout == "contiguous" and kind != "thp-shmem":
                assert positions(vec, PRESENT) == list(range(s, k))
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


def test_thp_whole_block_pageout(bins, zram_swap):
    """A whole PMD-mapped block pages out; the other stays PMD-mapped."""
    w = work(bins / "pmwork", "thp-shmem", dirty=100, swapout="pageout",
             swapped=50, layout="contiguous")
    try:
        ready = w.start()
        assert ready["swapped"] == PAGES // 2 and ready["pageout_missed"] == 0
        assert ready["thp_pages"] == PAGES // 2, ready
        assert smaps_swap_kb(w.p.pid, ready["addr"]) == PAGES // 2 * PAGE // 1024
    finally:
        w.kill()
    w = work(bins / "pmwork", "thp-shmem", dirty=100)
    try:
        ready = w.start()
        assert ready["thp_pages"] == PAGES, ready
        assert vma(w.p.pid, ready["addr"])["ShmemPmdMapped"] == PAGES * PAGE // 1024
        assert thp_mounts() == []
    finally:
        w.kill()


# ------------------------------------------------------------------- touch

@pytest.mark.parametrize("kind", ALL_KINDS)
def test_touch_read_present_and_clean(bins, dirs, kind):
    w = work(bins / "pmwork", kind, dirty=100 if kind == "thp-shmem" else DIRTY,
             touch="read", layout="strided")
    try:
        ready = w.start()
        k, _ = expected(kind)
        assert ready["touch"] == "read"
        assert counts(ready) == (PAGES - k, k, 0), ready
        assert ready["contradictions"] == 0
        assert ready["zero_page"] in (0, 1)
        f = vma(w.p.pid, ready["addr"])
        pm = pagemap(w.p.pid, ready["addr"], PAGES)
        present = [e for e in pm if e & PM_PRESENT]
        assert len(present) == k
        if kind == "private-anon" and not ready["zero_page"]:
            # No zero page for read faults on this kernel: each read fault got a
            # page of its own, mapped exclusively (with distinct frames where shown).
            assert f.get("Private_Dirty", 0) == k * PAGE_KB, f
            assert all(e & PM_EXCLUSIVE for e in present)
            pfns = [e & PFN_MASK for e in present]
            assert all(pfns) and len(set(pfns)) == k or not any(pfns)
        else:
            # Shared memory, or the zero page: present and clean.
            assert f.get("Shared_Dirty", 0) + f.get("Private_Dirty", 0) == 0, f
            if kind == "private-anon":
                assert not any(e & PM_EXCLUSIVE for e in present)
                assert len({e & PFN_MASK for e in present}) == 1
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


# ------------------------------------------------------------------- views

def test_second_mapper_of_private_skips(bins):
    r = subprocess.run([bins / "pmwork", "--kind", "private-anon", "--pages", "4",
                        "--view", "second-mapper"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == EXIT_SKIP
    assert r.stdout == "SKIP private memory has no second mapper\n"


@pytest.mark.parametrize("view", ["second-mapper", "fork-child"])
@pytest.mark.parametrize("kind", ["memfd", "shared-anon", "sysv-shm", "tmpfs", "file-disk"])
def test_view_is_a_stopped_process(bins, dirs, kind, view):
    w = work(bins / "pmwork", kind, dirty=DIRTY, view=view)
    try:
        ready = w.start()
        vp = ready["view_pid"]
        assert vp != w.p.pid and proc_state(vp) == "T"
        assert int(Path(f"/proc/{vp}/stat").read_text().rsplit(")", 1)[1].split()[1]) == w.p.pid
        f = vma(vp, ready["view_addr"])
        if view == "second-mapper":
            assert ready["view_addr"] != ready["addr"]
            assert f["Rss"] == 0, f
            assert f["Size"] == PAGES * PAGE // 1024
        else:
            assert ready["view_addr"] == ready["addr"]
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
    assert gone(vp)
    if kind == "sysv-shm":
        assert sysv_segments(w.p.pid) == []


def test_view_dies_with_pmwork(bins):
    w = work(bins / "pmwork", "memfd", pages=16, view="fork-child")
    try:
        vp = w.start()["view_pid"]
    finally:
        w.kill()
    for _ in range(100):
        if gone(vp):
            break
        time.sleep(0.05)
    assert gone(vp)


def test_fork_child_of_private_shows_same_swap(bins, zram_swap):
    w = work(bins / "pmwork", "private-anon", dirty=DIRTY, swapout="pageout",
             swapped=SWAPPED_PCT, view="fork-child")
    try:
        ready = w.start()
        k, s = expected("private-anon")
        assert ready["swapped"] == s
        mine = pagemap(w.p.pid, ready["addr"], PAGES)
        child = pagemap(ready["view_pid"], ready["view_addr"], PAGES)
        swp = [i for i, e in enumerate(mine) if e & PM_SWAP]
        assert len(swp) == s
        assert [i for i, e in enumerate(child) if e & PM_SWAP] == swp
        # the same slots: the child's PTEs are copies of the parent's
        assert [child[i] for i in swp] == [mine[i] for i in swp]
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


# ---------------------------------------------------------------- sequence

@pytest.mark.parametrize("kind", sorted(SWAPPING + ["file-disk"]))
def test_sequence(bins, zram_swap, dirs, kind):
    w = work(bins / "pmwork", kind, dirty=DIRTY, swapped=SWAPPED_PCT,
             layout="contiguous", touch="read")
    k, s = expected(kind)
    out = (PAGES - k + s, k - s, 0) if kind == "file-disk" else (PAGES - k, k - s, s)
    try:
        w.start()
        _, st, vec = w.cmd("FAULT")
        assert counts(st) == (PAGES - k, k, 0)
        assert positions(vec, PRESENT) == list(range(k))
        _, st, vec = w.cmd("PAGEOUT")
        assert counts(st) == out, st
        if kind != "file-disk":
            assert positions(vec, SWAPPED) == list(range(s))
            assert swap_kb(w, kind, w.ready["addr"]) == s * PAGE // 1024
        else:
            assert positions(vec, NONE) == list(range(s)) + list(range(k, PAGES))
            assert smaps_swap_kb(w.p.pid, w.ready["addr"]) == 0
        _, st, _ = w.cmd("FAULT")
        assert counts(st) == (PAGES - k, k, 0)
        _, st, _ = w.cmd("REMOVE")
        assert counts(st) == (PAGES, 0, 0)
        _, st, _ = w.cmd("PAGEOUT")
        assert counts(st) == (PAGES, 0, 0)
        _, st, _ = w.cmd("REMOVE")
        assert counts(st) == (PAGES, 0, 0)
        assert swap_kb(w, kind, w.ready["addr"]) == 0
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


@pytest.mark.parametrize("kind", SWAPPING)
def test_swapin(bins, zram_swap, dirs, kind):
    w = work(bins / "pmwork", kind, dirty=DIRTY, swapout="pageout",
             swapped=SWAPPED_PCT)
    k, s = expected(kind)
    try:
        ready = w.start()
        assert ready["swapped"] == s
        extra, st, vec = w.cmd("SWAPIN")
        assert extra["pages"] == s and extra["ns"] > 0, extra
        assert counts(st) == (PAGES - k, k, 0)
        assert swap_kb(w, kind, ready["addr"]) == 0
        extra, st, _ = w.cmd("SWAPIN")
        assert extra["pages"] == 0
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


def test_asan_steps(asan_bins, zram_swap, dirs):
    """The step commands and a view under ASan+UBSan."""
    for kind in ("sysv-shm", "file-disk"):
        w = work(asan_bins / "pmwork", kind, dirty=100, swapped=50,
                 layout="strided", view="fork-child")
        try:
            w.start()
            for name in ("PAGEOUT", "FAULT", "SWAPIN", "REMOVE"):
                w.cmd(name)
            assert w.exit() == EXIT_PASS, w.p.stderr.read().decode()
        finally:
            w.kill()
