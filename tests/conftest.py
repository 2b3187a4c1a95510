"""The tests' one set of fixtures.  Plain helpers, the catalog and the exit codes
are in helpers.py (re-exported here for the files that import them from conftest).

Tests that need root, swap or a memory cgroup skip with a reason where they
cannot run; CI runs them as root on a machine with zram.
"""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers import (BUILD, ROOT, TIMEOUT, Target, is_root, left_behind, machine_state,
                     wait_until)
# Still imported from conftest by test_kernels.py, test_lava.py and test_ab.py:
from helpers import (EXIT_ERROR, EXIT_INCONCLUSIVE, EXIT_INCORRECT, EXIT_PASS,  # noqa: F401
                     EXIT_REGRESSION, EXIT_SKIP, EXIT_USAGE, swaps)


def _make(target):
    subprocess.run(["make", "-s", "-C", str(ROOT), target], check=True, timeout=900)


@pytest.fixture(scope="session")
def bins():
    """Directory of the static release binaries (built once per session)."""
    _make("all")
    return BUILD / "bin"


@pytest.fixture(scope="session")
def asan_bins():
    """Directory of the ASan+UBSan binaries and the C unit tests."""
    _make("asan")
    return BUILD / "asan"


@pytest.fixture(params=["rel", "asan"])
def any_bins(request):
    """Each build in turn: the release binaries, then the ASan+UBSan ones."""
    return request.getfixturevalue("bins" if request.param == "rel" else "asan_bins")


@pytest.fixture(scope="session")
def pmb(request):
    """The pmbench under test: $PMBENCH if set, else build/bin/pmbench."""
    env = os.environ.get("PMBENCH")
    if env:
        return Path(env)
    return request.getfixturevalue("bins") / "pmbench"


@pytest.fixture
def root():
    if not is_root():
        pytest.skip("needs root (CI runs it as root)")


@pytest.fixture
def zram_swap(root):
    """A fresh zram swap device of 512 MiB at the highest priority, removed afterwards.

    Uses hot_add so that it never touches a zram device it did not create.
    """
    ctl = Path("/sys/class/zram-control/hot_add")
    if not ctl.exists():
        pytest.skip("no zram-control in sysfs (zram not built or loaded)")
    idx = int(ctl.read_text().strip())
    dev = f"/dev/zram{idx}"
    sysdir = Path(f"/sys/block/zram{idx}")
    try:
        (sysdir / "disksize").write_text(str(512 << 20))
        subprocess.run(["mkswap", "-q", dev], check=True, timeout=TIMEOUT)
        subprocess.run(["swapon", "-p", "32767", dev], check=True, timeout=TIMEOUT)
        yield dev
    finally:
        subprocess.run(["swapoff", dev], stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        for f, v in ((sysdir / "reset", "1"),
                     (Path("/sys/class/zram-control/hot_remove"), str(idx))):
            try:
                f.write_text(v)
            except OSError:
                pass


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
    cg = parent / f"pmb-test-{os.getpid()}"
    cg.mkdir()
    try:
        (cg / ("memory.max" if ver == 2 else "memory.limit_in_bytes")).write_text(str(4 << 20))
        yield cg
    finally:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                cg.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@pytest.fixture
def kind_dirs(monkeypatch):
    """Private PMB_TMPFS (on /dev/shm) and PMB_DISKDIR (on /var/tmp) directories for the
    file-backed kinds; each must be empty again at the end."""
    made = []
    for env, parent in (("PMB_TMPFS", "/dev/shm"), ("PMB_DISKDIR", "/var/tmp")):
        if not os.path.isdir(parent):
            continue
        d = tempfile.mkdtemp(prefix="pmb-test-", dir=parent)
        made.append(d)
        monkeypatch.setenv(env, d)
    yield made
    for d in made:
        left = os.listdir(d)
        shutil.rmtree(d, ignore_errors=True)
        assert left == [], f"{d}: left behind {left}"


@pytest.fixture
def target():
    """A factory of pmscan targets (helpers.Target), killed at the end."""
    made = []

    def make(kind="private-anon", pages=100, touch=(), pageout=(), protect=()):
        t = Target(kind, pages, touch, pageout, protect)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


@pytest.fixture
def clean_machine(root):
    """Fails the test if it leaves swap, zram, cgroups or processes behind."""
    before = machine_state()
    yield before
    # Reaped children and removed devices may take a moment to disappear.
    try:
        wait_until(lambda: not left_behind(before), "the machine coming back clean")
    except AssertionError:
        assert not left_behind(before)
