"""Two runs at once on one machine (issue 12, item 4).

Swap belongs to the machine, not to a process: the kernel puts any process's
pages on any active swap device, and a run that removes its zram faults back
in whatever was on it.  So runs cannot share a machine; the second one waits
for the first (or, with --no-wait, exits 77 naming it), and never shares its
zram device, cgroups or run directory.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import EXIT_PASS, EXIT_SKIP, TIMEOUT, wait_until

LOCK = Path("/run/pagemap-bench/run.lock")
RUN = ["run", "--kinds", "memfd", "--swapout", "pageout,cgroup", "--size", "4M",
       "--methods", "dense", "--rounds", "5", "--series", "1", "--precision", "0"]


def holder():
    try:
        return int(LOCK.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def run_dir(res):
    dirs = [d for d in Path(res).iterdir() if d.is_dir() and not d.is_symlink()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_a_second_run_waits_or_is_refused_and_shares_nothing(pmb, clean_machine, tmp_path):
    first = subprocess.Popen([pmb, *RUN, "--results", tmp_path / "a"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: holder() == first.pid or first.poll() is not None,
                   "the first run taking the machine's lock")
        assert first.poll() is None, first.communicate()
        # Held still while the others try: it keeps the machine however long that takes.
        os.kill(first.pid, signal.SIGSTOP)
        # Refused at once with --no-wait, naming the run that holds the machine.
        refused = subprocess.run([pmb, *RUN, "--no-wait", "--results", tmp_path / "b"],
                                 capture_output=True, text=True, timeout=TIMEOUT)
        assert refused.returncode == EXIT_SKIP, refused.stderr
        assert f"pid {first.pid}" in refused.stderr and "one runs at a time" in refused.stderr
        assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
        # Waits otherwise, and starts when the first has finished.
        second = subprocess.Popen([pmb, *RUN, "--results", tmp_path / "c"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(1)   # not a timing assertion: only gives the second run time to reach the lock
        assert second.poll() is None
        os.kill(first.pid, signal.SIGCONT)
        out1, err1 = first.communicate(timeout=600)
        out2, err2 = second.communicate(timeout=600)
    finally:
        for p in ("first", "second"):
            proc = locals().get(p)
            if proc and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
                proc.wait()
    assert first.returncode == EXIT_PASS, err1
    assert second.returncode == EXIT_PASS, err2
    assert f"waiting for pmbench pid {first.pid}" in err2
    a, c = run_dir(tmp_path / "a"), run_dir(tmp_path / "c")
    ma, mc = (json.loads((d / "meta.json").read_text()) for d in (a, c))
    # One after the other: the second started when the first had finished.
    assert ma["finished"] <= mc["started"], (ma["finished"], mc["started"])
    assert a.name != c.name or a.parent != c.parent
    assert holder() in (0, second.pid)
