"""Shared fixtures for the pagemap-bench tests.

Tests that need root, swap or a memory cgroup skip with a reason where they
cannot run; CI runs them as root on a machine with zram.
"""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

EXIT_PASS, EXIT_REGRESSION, EXIT_INCORRECT, EXIT_ERROR = 0, 1, 2, 3
EXIT_USAGE, EXIT_SKIP = 64, 77


def _make(target):
    subprocess.run(["make", "-s", "-C", str(ROOT), target], check=True)


@pytest.fixture(scope="session")
def bins():
    """Directory of the static release binaries (built once per session)."""
    _make("all")
    return BUILD / "bin"


@pytest.fixture(scope="session")
def asan_bins():
    """Directory of the ASan+UBSan binaries and unit tests."""
    _make("asan")
    return BUILD / "asan"


def is_root():
    return os.geteuid() == 0


@pytest.fixture
def root():
    if not is_root():
        pytest.skip("needs root (CI runs it as root)")


def _zram_control():
    return Path("/sys/class/zram-control/hot_add")


@pytest.fixture
def zram_swap(root):
    """A fresh zram swap device of 512 MiB, removed afterwards.

    Uses hot_add so that it never touches a zram device it did not create.
    """
    if not _zram_control().exists():
        pytest.skip("no zram-control in sysfs (zram not built or loaded)")
    idx = int(_zram_control().read_text().strip())
    dev = f"/dev/zram{idx}"
    sysdir = Path(f"/sys/block/zram{idx}")
    try:
        (sysdir / "disksize").write_text(str(512 << 20))
        subprocess.run(["mkswap", "-q", dev], check=True)
        subprocess.run(["swapon", "-p", "32767", dev], check=True)
        yield dev
    finally:
        subprocess.run(["swapoff", dev], stderr=subprocess.DEVNULL)
        try:
            (sysdir / "reset").write_text("1")
        except OSError:
            pass
        try:
            Path("/sys/class/zram-control/hot_remove").write_text(str(idx))
        except OSError:
            pass


def swaps():
    """Active swap devices, as /proc/swaps lists them."""
    lines = Path("/proc/swaps").read_text().splitlines()[1:]
    return [l.split()[0] for l in lines if l.strip()]
