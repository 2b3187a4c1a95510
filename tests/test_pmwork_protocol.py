"""pmwork's interface to its parent: the command line, SKIP lines with their reasons,
the READY/STATE/EXIT protocol on stdin and stdout, and its lifetime (it never
outlives the parent)."""
import os
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import (EXIT_PASS, EXIT_SKIP, EXIT_USAGE, TIMEOUT, gone, is_root, proc_stat, run,
                     swaps, wait_until, work)


@pytest.mark.parametrize("args", [
    ["--kind", "nosuch", "--pages", "4"],
    ["--kind", "memfd", "--pages", "0"],
    ["--kind", "memfd", "--pages", "4", "--dirty", "150%"],
    ["--kind", "memfd", "--pages", "4", "--layout", "diagonal"],
    ["--kind", "memfd", "--pages", "4", "--swapout", "sometimes"],
    ["--kind", "memfd", "--pages", "4", "--view", "third-party"],
    ["--kind", "memfd", "--pages", "4", "--touch", "glance"],
    ["--kind", "memfd"],
    ["--pages", "4"],
    ["--kind", "memfd", "--pages", "4", "--bogus"],
], ids=["kind", "pages0", "dirty150", "layout", "swapout", "view", "touch", "nopages",
        "nokind", "option"])
def test_bad_input(bins, args):
    r = run(bins / "pmwork", *args)
    assert r.returncode == EXIT_USAGE
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr


def test_pageout_without_swap_skips(bins, tmp_path):
    """No active swap: a skip with the reason.  Where this machine has swap, pmwork runs
    in a mount namespace whose /proc/swaps lists none (root only)."""
    argv = [str(bins / "pmwork"), "--kind", "memfd", "--pages", "8", "--swapout", "pageout"]
    if swaps():
        if not is_root():
            pytest.skip("swap is active and hiding it needs root: " + ", ".join(swaps()))
        empty = tmp_path / "swaps"
        empty.write_text(Path("/proc/swaps").read_text().splitlines()[0] + "\n")
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /proc/swaps && exec "$@"', str(empty), *argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_SKIP, r.stderr
    assert r.stdout == "SKIP no active swap\n"


def test_tmpfs_without_tmpfs_skips(bins, tmp_path):
    """PMB_TMPFS naming a directory that is not tmpfs is a skip with the reason."""
    fs = subprocess.run(["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True,
                        text=True, timeout=TIMEOUT).stdout.strip()
    if fs == "tmpfs":
        pytest.skip(f"{tmp_path} is itself on tmpfs")
    r = run(bins / "pmwork", "--kind", "tmpfs", "--pages", "4",
            env=dict(os.environ, PMB_TMPFS=str(tmp_path)))
    assert r.returncode == EXIT_SKIP
    assert r.stdout.startswith(f"SKIP no tmpfs mounted (set PMB_TMPFS): {tmp_path}: "
                               "file system type ")


def test_second_mapper_of_private_skips(bins):
    r = run(bins / "pmwork", "--kind", "private-anon", "--pages", "4", "--view", "second-mapper")
    assert r.returncode == EXIT_SKIP
    assert r.stdout == "SKIP private memory has no second mapper\n"


def test_unknown_command_and_eof(bins):
    w = work(bins / "pmwork", "memfd", 16, dirty=50)
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
    """PR_SET_PDEATHSIG: a stopped pmwork must not outlive its parent.  The parent (a
    shell) exits only once pmwork is stopped, after READY, so the order is certain."""
    sh = subprocess.Popen(["sh", "-c", f"{bins / 'pmwork'} --kind memfd --pages 8 "
                           "</dev/null >/dev/null & echo $!; read go"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        pid = int(sh.stdout.readline())
        wait_until(lambda: gone(pid) or proc_stat(pid)[0] in ("T", "t"), "pmwork stopping")
        assert not gone(pid), "pmwork exited before its parent did"
        sh.stdin.write("go\n")
        sh.stdin.flush()
        assert sh.wait(TIMEOUT) == 0
        wait_until(lambda: gone(pid), "pmwork dying with its parent")
    finally:
        if pid and not gone(pid):
            os.kill(pid, signal.SIGKILL)
        if sh.poll() is None:
            sh.kill()
        sh.wait(TIMEOUT)
        sh.stdin.close()
        sh.stdout.close()
