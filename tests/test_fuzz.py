"""The libFuzzer targets (tests/fuzz/README.md) as regression tests.

CI runs this file as part of the suite (./run.sh test): it builds the targets
(`make fuzz-build`: clang, ASan, UBSan), replays every seed (tests/fuzz/corpus/)
and every reproducer of a past finding (tests/fuzz/crashes/) through every
target, checks with strace that no target writes outside its $TMPDIR and that
none leaves anything there, and fuzzes each target for PMB_FUZZ_SECONDS
(default 15) seconds through tests/fuzz/run.sh, which fails on any crash, hang
(10 s an input) or leak.  That is the bounded CI size; the campaign is
`make fuzz FUZZ_SECONDS=900` (15 minutes a target, about 1.5 hours in all).

A crash found once stays: its reproducer goes into tests/fuzz/crashes/<target>/
and every later run replays it.  Skips with the reason where clang's libFuzzer
is missing (Debian: apt-get install clang libclang-rt-14-dev).
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import BUILD, ROOT

FUZZ = ROOT / "tests" / "fuzz"
TARGETS = ["rundir", "compare_gate", "merge", "model", "policy", "wire"]
SECONDS = int(os.environ.get("PMB_FUZZ_SECONDS", "15"))


def inputs(*dirs):
    """Every input file under the given directories of tests/fuzz (READMEs are notes, not inputs)."""
    return sorted(p for d in dirs for p in (FUZZ / d).rglob("*")
                  if p.is_file() and not p.name.startswith("README"))


@pytest.fixture(scope="session")
def fuzz_bins(tmp_path_factory):
    """build/fuzz/, built; a skip where clang cannot link a libFuzzer target."""
    if not shutil.which("clang"):
        pytest.skip("no clang (apt-get install clang libclang-rt-14-dev)")
    probe = tmp_path_factory.mktemp("probe")
    (probe / "t.c").write_text("int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n"
                               "{ return 0; }\n")
    r = subprocess.run(["clang", "-fsanitize=fuzzer,address,undefined", "-o", str(probe / "t"),
                        str(probe / "t.c")], capture_output=True, text=True, timeout=120)
    if r.returncode:
        pytest.skip(f"clang cannot link a libFuzzer target (libclang-rt-14-dev?): {r.stderr[-300:]}")
    subprocess.run(["make", "-s", "-C", str(ROOT), "fuzz-build"], check=True, timeout=1800)
    return BUILD / "fuzz"


def leftovers(d):
    return sorted(str(p) for p in Path(d).rglob("*"))


def test_every_target_has_seeds_and_a_dictionary():
    for t in TARGETS:
        assert inputs(f"corpus/{t}"), f"no seeds in tests/fuzz/corpus/{t}/"
        assert (FUZZ / "dict" / f"{t}.dict").is_file(), f"no tests/fuzz/dict/{t}.dict"
        assert (FUZZ / f"fuzz_{t}.c").is_file()


@pytest.mark.parametrize("target", TARGETS)
def test_replay(fuzz_bins, target, tmp_path):
    """Every seed and every past finding, of every target, runs clean through this one, and none
    makes a command exit 3 (a harness error: a file, however bad, is bad input, exit 64)."""
    files = inputs("corpus", "crashes")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = subprocess.run([str(fuzz_bins / target), "-timeout=10", "-rss_limit_mb=2048",
                        *map(str, files)], capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, TMPDIR=str(tmp), UBSAN_OPTIONS="print_stacktrace=1",
                                PMB_FUZZ_STRICT="1"))
    assert r.returncode == 0, r.stderr[-6000:]
    assert "runtime error" not in r.stderr and "Sanitizer" not in r.stderr, r.stderr[-6000:]
    ran = re.findall(r"^Executed (.+) in \d+ ms$", r.stderr, re.M)
    assert sorted(ran) == sorted(map(str, files)), "not every input ran"
    assert not leftovers(tmp), f"left behind: {leftovers(tmp)[:5]}"


# What strace shows of a write: the syscall, and which of its path arguments it creates,
# changes or removes (the others are read, or are a link's text).
WRITES = {"open": [0], "creat": [0], "openat": [0], "mkdir": [0], "mkdirat": [0], "rmdir": [0],
          "unlink": [0], "unlinkat": [0], "rename": [0, 1], "renameat": [0, 1], "renameat2": [0, 1],
          "symlink": [1], "symlinkat": [1], "link": [1], "linkat": [1], "mknod": [0], "mknodat": [0],
          "truncate": [0]}
OPEN_WRITE = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")


def written_paths(log):
    """(syscall, absolute path) of every write-like call in an `strace -f -y` log."""
    out = []
    for line in log.splitlines():
        m = re.match(r"^\d+\s+(\w+)\((.*)\)\s+=\s+", line)
        if not m or m.group(1) not in WRITES:
            continue
        call, args = m.groups()
        if call.startswith("open") and call != "creat" and not OPEN_WRITE.search(args):
            continue
        # Path arguments in order, each with the directory it is relative to (-y shows it).
        paths, base = [], None
        for tok in re.finditer(r'(?:AT_FDCWD|\d+)<([^>]*)>|"((?:[^"\\]|\\.)*)"', args):
            if tok.group(1) is not None:
                base = tok.group(1)
            else:
                paths.append(os.path.join(base, tok.group(2)) if base else tok.group(2))
                base = None
        for i in WRITES[call]:
            if i < len(paths):
                out.append((call, paths[i]))
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_writes_stay_in_tmpdir(fuzz_bins, target, tmp_path):
    """Everything a target creates, changes or removes is inside its $TMPDIR (and nothing stays)."""
    if not shutil.which("strace"):
        pytest.skip("no strace")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    log = tmp_path / "strace.log"
    files = inputs(f"corpus/{target}", f"crashes/{target}")
    r = subprocess.run(["strace", "-f", "-y", "-qq", "-o", str(log), "-e", "trace=" + ",".join(WRITES),
                        str(fuzz_bins / target), *map(str, files)], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path,
                       # LeakSanitizer cannot run under ptrace.
                       env=dict(os.environ, TMPDIR=str(tmp), ASAN_OPTIONS="detect_leaks=0"))
    assert r.returncode == 0, r.stderr[-4000:]
    writes = written_paths(log.read_text())
    assert any(p.startswith(str(tmp) + "/") for _, p in writes) or target == "wire", \
        "strace saw no write at all: the check sees nothing"
    outside = [(c, p) for c, p in writes
               if not os.path.normpath(p).startswith(str(tmp) + "/") and p != "/dev/null"]
    assert not outside, f"writes outside $TMPDIR: {outside[:10]}"
    assert not leftovers(tmp), f"left behind: {leftovers(tmp)[:5]}"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_briefly(fuzz_bins, target):
    """PMB_FUZZ_SECONDS of fuzzing (default 15): no crash, hang or leak; libFuzzer really ran."""
    r = subprocess.run([str(FUZZ / "run.sh"), "--bin", str(fuzz_bins), "--seconds", str(SECONDS), target],
                       capture_output=True, text=True, timeout=SECONDS + 600)
    assert r.returncode == 0, r.stderr[-6000:]
    row = [l for l in r.stderr.splitlines() if l.startswith(target + " ")]
    assert row and row[0].split()[-1] == "ok", r.stderr[-2000:]
    executions = int(row[0].split()[2])
    assert executions > 0, row[0]
