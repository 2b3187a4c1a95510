"""pmscan's command line: --list and its probes, what happens to a method the kernel
lacks, and the errors (usage 64, harness 3, not root 77).

A kernel that lacks io_uring or PAGEMAP_SCAN is made for pmscan alone by a
seccomp filter that fails the one system call with the errno such a kernel gives.
"""
import ctypes
import errno
import fcntl
import os
import struct

import pytest

from helpers import (EXIT_ERROR, EXIT_PASS, EXIT_SKIP, EXIT_USAGE, SYS_IO_URING_SETUP,
                     SYS_IOCTL, free_pid, is_root, kernel_at_least, parse_samples, run,
                     seccomp_fail)

PAGEMAP_SCAN = 0xC0606610      # _IOWR('f', 16, struct pm_scan_arg), 96 bytes

NO_URING = "no io_uring in this kernel"
URING_EPERM = "io_uring not permitted (kernel.io_uring_disabled or seccomp)"
URING_ENOMEM = "io_uring ring setup: out of memory (RLIMIT_MEMLOCK?)"
NO_SCAN = "no PAGEMAP_SCAN (Linux < 6.7)"
SCAN_ODD = "PAGEMAP_SCAN probe failed unexpectedly"
NO_MAP_FILES = "opening /proc/PID/map_files needs CAP_SYS_ADMIN"


def io_uring_errno():
    """0 if this process can set up a one-entry io_uring, else the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)       # struct io_uring_params
    fd = libc.syscall(SYS_IO_URING_SETUP, 1, params)
    if fd >= 0:
        os.close(fd)
        return 0
    return ctypes.get_errno()


def pagemap_scan_errno():
    """0 if PAGEMAP_SCAN accepts an empty range on our own pagemap, else the errno."""
    arg = bytearray(96)
    struct.pack_into("Q", arg, 0, len(arg))         # .size; start == end == 0
    fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        fcntl.ioctl(fd, PAGEMAP_SCAN, arg)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def list_rows(out):
    rows = {}
    for line in out.splitlines():
        f = line.split("\t")
        assert len(f) == 3 and (f[2] == "ok" or f[2].startswith("skip: ")), line
        rows[f[0]] = f[2]
    return rows


def test_list_probes(bins):
    """--list says what this kernel offers: asked of the kernel here directly."""
    r = run(bins / "pmscan", "--list")
    assert r.returncode == EXIT_PASS, r.stderr
    rows = list_rows(r.stdout)
    scan = pagemap_scan_errno()
    assert (scan == 0) == kernel_at_least(6, 7), f"PAGEMAP_SCAN errno {scan}"
    assert rows["scan-ioctl"] == ("ok" if scan == 0 else "skip: " + NO_SCAN)
    uring = io_uring_errno()
    want = {0: "ok", errno.ENOSYS: "skip: " + NO_URING, errno.EPERM: "skip: " + URING_EPERM,
            errno.ENOMEM: "skip: " + URING_ENOMEM}
    assert rows["uring"] == want[uring], f"io_uring_setup errno {uring}"
    assert rows["userspace"] == ("ok" if is_root() else "skip: " + NO_MAP_FILES)
    for name in ("dense", "sparse", "batched"):
        assert rows[name] == "ok"


def test_this_host_offers_every_method(bins):
    """The CI hosts (Linux 6.18) have PAGEMAP_SCAN and io_uring; tests run as root."""
    if not kernel_at_least(6, 7):
        pytest.skip("Linux < 6.7: no PAGEMAP_SCAN (test_list_probes checks the reason)")
    rows = list_rows(run(bins / "pmscan", "--list").stdout)
    assert rows["scan-ioctl"] == "ok"
    if io_uring_errno() == errno.EPERM and \
            open("/proc/sys/kernel/io_uring_disabled").read().strip() != "0":
        pytest.skip("io_uring disabled by kernel.io_uring_disabled")
    assert rows["uring"] == "ok"


LACKS = [
    pytest.param(SYS_IO_URING_SETUP, errno.ENOSYS, None, "uring", NO_URING, id="no-io_uring"),
    pytest.param(SYS_IO_URING_SETUP, errno.EPERM, None, "uring", URING_EPERM,
                 id="io_uring-disabled"),
    pytest.param("ioctl", errno.ENOTTY, PAGEMAP_SCAN, "scan-ioctl", NO_SCAN,
                 id="no-PAGEMAP_SCAN"),
    pytest.param("ioctl", errno.EINVAL, PAGEMAP_SCAN, "scan-ioctl", NO_SCAN,
                 id="PAGEMAP_SCAN-EINVAL"),
    pytest.param("ioctl", errno.EIO, PAGEMAP_SCAN, "scan-ioctl", SCAN_ODD,
                 id="PAGEMAP_SCAN-EIO"),
]


@pytest.mark.parametrize("nr,err,arg,method,why", LACKS)
def test_a_missing_feature_is_a_skip_with_its_reason(root, bins, target, nr, err, arg,
                                                     method, why):
    """A kernel without the feature: --list names the reason, a timed run leaves the
    method out and says why, and a run with nothing left is a skip (77)."""
    nr = SYS_IOCTL if nr == "ioctl" else nr
    lacks = seccomp_fail(nr, err, arg)
    r = run(bins / "pmscan", "--list", preexec_fn=lacks)
    assert r.returncode == EXIT_PASS, r.stderr
    rows = list_rows(r.stdout)
    assert rows[method] == "skip: " + why
    assert all(v == "ok" for k, v in rows.items() if k != method), rows
    spec = method + (":8:8" if method == "uring" else "")
    t = target("private-anon", 16, touch=[1])
    base = [*t.args(), "--rounds", 1, "--warmup", 0]
    r = run(bins / "pmscan", *base, "--method", "dense", "--method", spec, preexec_fn=lacks)
    assert r.returncode == EXIT_PASS, r.stderr
    assert r.stderr == f"skip: {spec}: {why}\n"
    assert {row["method"] for row in parse_samples(r.stdout)} == {"dense"}
    r = run(bins / "pmscan", *base, "--method", spec, preexec_fn=lacks)
    assert r.returncode == EXIT_SKIP and r.stdout == ""
    assert r.stderr == f"skip: {spec}: {why}\nskip: no usable scan method\n"


def test_userspace_needs_cap_sys_admin(root, bins):
    """As nobody, /proc/PID/map_files cannot be opened: userspace is skipped with the reason."""
    r = run(bins / "pmscan", "--list", preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
    if r.returncode == 126 or "Permission denied" in r.stderr:
        pytest.skip(f"{bins / 'pmscan'} is not executable by nobody")
    assert r.returncode == EXIT_PASS, r.stderr
    rows = list_rows(r.stdout)
    assert rows["userspace"] == "skip: " + NO_MAP_FILES
    assert [m for m, v in rows.items() if v != "ok"] == ["userspace"]


# --- errors ----------------------------------------------------------------

BASE = ["--pid", "1", "--addr", "0x10000", "--pages", "10"]


@pytest.mark.parametrize("args", [
    [],
    ["--addr", "0x10000", "--pages", "10", "--method", "dense"],           # no --pid
    ["--pid", "1", "--pages", "10", "--method", "dense"],                  # no --addr
    ["--pid", "1", "--addr", "0x10000", "--method", "dense"],              # no --pages
    BASE,                                                                   # no --method
    BASE + ["--method", "bogus"],
    BASE + ["--method", "batched"],
    BASE + ["--method", "batched:0"],
    BASE + ["--method", "batched:1048577"],
    BASE + ["--method", "batched:x"],
    BASE + ["--method", "batched:8:8"],
    BASE + ["--method", "dense:4"],
    BASE + ["--method", "scan-ioctl:4"],
    BASE + ["--method", "userspace:1"],
    BASE + ["--method", "uring"],
    BASE + ["--method", "uring:0"],
    BASE + ["--method", "uring:8:0"],
    BASE + ["--method", "uring:8:999"],
    BASE + ["--method", "uring:8:257"],
    BASE + ["--method", "uring:8:"],
    BASE + ["--method", "uring:8:x"],
    BASE + ["--method", "uring:8:8:8"],
    BASE + ["--method", "uring:1048577:8"],
    BASE + ["--method", "uring:" + "0" * 30 + "1"],
    BASE + ["--method", "swapin"],                                          # a co-metric
    BASE + ["--classify", "bogus"],
    BASE + ["--classify", "dense", "--method", "dense"],
    BASE + ["--classify", "dense", "--agree"],
    BASE + ["--classify", "dense", "--classify", "dense"],
    BASE + ["--classify"],
    ["--pid", "1", "--addr", "0x10001", "--pages", "10", "--method", "dense"],
    ["--pid", "1", "--addr", "zz", "--pages", "10", "--method", "dense"],
    ["--pid", "1", "--addr", "0x10000", "--pages", "0", "--method", "dense"],
    ["--pid", "0", "--addr", "0x10000", "--pages", "10", "--method", "dense"],
    ["--pid", "-5", "--addr", "0x10000", "--pages", "10", "--method", "dense"],
    BASE + ["--method", "dense", "--rounds", "0"],
    BASE + ["--method", "dense", "--cpu", "100000"],
    BASE + ["--method", "dense", "--bogus"],
    BASE + ["--method", "dense", "extra"],
])
def test_bad_usage(bins, args):
    r = run(bins / "pmscan", *args)
    assert r.returncode == EXIT_USAGE, (args, r.stderr)
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cpu_not_online(bins, target):
    t = target("private-anon", 10)
    r = run(bins / "pmscan", *t.args(), "--method", "dense", "--cpu", os.cpu_count() + 8)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_pid_gone(bins):
    r = run(bins / "pmscan", "--pid", free_pid(), "--addr", "0x10000", "--pages", "10",
            "--method", "dense")
    assert r.returncode == EXIT_ERROR, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_not_root_skips(root, bins, target):
    """As an unprivileged user, another user's pagemap is a skip, not an error."""
    t = target("private-anon", 10)
    r = run(bins / "pmscan", *t.args(), "--method", "dense",
            preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
    if r.returncode == 126 or "Permission denied" in r.stderr and "pmscan:" not in r.stderr:
        pytest.skip(f"{bins / 'pmscan'} is not executable by nobody")
    assert r.returncode == EXIT_SKIP, r.stderr
    assert r.stderr.startswith("skip: needs root")
