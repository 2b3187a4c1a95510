"""pmscan --agree: every method reads one frozen region and must agree with the
reference on what its catalog row says it can be compared on (raw entries,
categories, or nothing: the userspace oracle); a region that changes is caught.

Pages are paged out to a zram device of our own (conftest's zram_swap).
"""
import os
import time

import pytest

from helpers import (COMPARE, EXIT_INCORRECT, EXIT_PASS, METHODS, TARGET_KINDS, Churn, agree,
                     method_of, parse_agree, states)


def variants(name):
    """--method SPECs that cover a method's arguments (batch sizes, depths in flight)."""
    args = method_of(name).args
    if "qd" in args:
        return [f"{name}:1:1", f"{name}:13:4", f"{name}:4096:8"]
    if "batch" in args:
        return [f"{name}:1", f"{name}:3", f"{name}:64", f"{name}:1048576"]
    return [name]


SPECS = [s for name in METHODS for s in variants(name)]


def by_compare(res, how):
    return {spec: c for spec, c in res.items() if c["compare"] == how}


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_every_method_agrees(root, bins, target, kind):
    n, touch = 700, [0, 1, 2, 3, 100, 511, 512, 513, 699] + list(range(200, 260))
    t = target(kind, n, touch=touch)
    r = agree(bins / "pmscan", t.args(), SPECS)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = parse_agree(r.stdout)
    assert list(res) == SPECS
    assert {states(c) for c in res.values()} == {(n - len(t.touch), len(t.touch), 0)}
    raw = by_compare(res, "raw")
    ref = next(iter(raw.values()))
    assert raw and all(c == ref for c in raw.values())
    assert ref["file"] == (0 if kind == "private-anon" else len(t.touch))
    assert ref["exclusive"] == len(t.touch)           # the target is the only mapper
    for c in by_compare(res, "categories").values():
        assert (c["file"], c["soft_dirty"], c["exclusive"]) == (ref["file"], 0, 0)
    for c in by_compare(res, "none").values():      # oracles: page states only
        assert (c["file"], c["soft_dirty"], c["exclusive"]) == (0, 0, 0)


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_agree_with_swap(root, bins, zram_swap, target, kind):
    """A third of the touched pages paged out.  Every read() method returns the same
    entries and the categories agree.  Private pages read back as swapped.  Shared
    (shmem) pages read back as swapped on a kernel with the shmem PM_SWAP patch and
    as none on a stock one: all of them one way, never a mix.  The userspace oracle
    finds them swapped on every kernel."""
    n, touch = 400, list(range(0, 400, 3))
    out = touch[::3]
    t = target(kind, n, touch=touch, pageout=out)
    r = agree(bins / "pmscan", t.args(), SPECS)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = parse_agree(r.stdout)
    raw = by_compare(res, "raw")
    ref = next(iter(raw.values()))
    assert all(c == ref for c in raw.values())
    for c in by_compare(res, "categories").values():
        assert (states(c), c["file"]) == (states(ref), ref["file"])
    for c in by_compare(res, "none").values():
        assert states(c) == (n - len(touch), len(touch) - len(out), len(out))
    if kind == "private-anon":
        assert states(ref) == (n - len(touch), len(touch) - len(out), len(out))
    else:
        assert states(ref) in ((n - len(touch) + len(out), len(touch) - len(out), 0),
                               (n - len(touch), len(touch) - len(out), len(out)))
        print(f"{kind}: read() reports {ref['swapped']} of {len(out)} swapped pages as swapped")


def test_agree_with_only_an_oracle(root, bins, target):
    """An oracle alone has nothing to be compared with: it prints its counts."""
    oracles = [m for m in METHODS if COMPARE[m] == "none"]
    t = target("shared-anon", 50, touch=[3, 4])
    r = agree(bins / "pmscan", t.args(), oracles)
    assert r.returncode == EXIT_PASS, r.stderr
    want = {"none": 48, "present": 2, "swapped": 0, "file": 0, "soft_dirty": 0,
            "exclusive": 0, "compare": "none"}
    assert parse_agree(r.stdout) == {m: want for m in oracles}


def test_categories_are_the_reference_without_raw(root, bins, target):
    """Without a raw method, a categories method is the reference."""
    specs = [m for m in METHODS if COMPARE[m] == "none"] + \
            [m for m in METHODS if COMPARE[m] == "categories"]
    t = target("memfd", 50, touch=[3, 4])
    r = agree(bins / "pmscan", t.args(), specs)
    assert r.returncode == EXIT_PASS, r.stderr
    res = parse_agree(r.stdout)
    assert list(res) == specs
    for spec, c in by_compare(res, "categories").items():
        assert (states(c), c["file"]) == ((48, 2, 0), 2), spec


def test_many_regions_agree(root, bins, target):
    """Every other page touched: 6000 regions, more than one PAGEMAP_SCAN call returns."""
    n = 12000
    t = target("private-anon", n, touch=range(0, n, 2))
    r = agree(bins / "pmscan", t.args(), ["dense"] + [m for m in METHODS
                                                     if COMPARE[m] == "categories"])
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    assert {states(c) for c in parse_agree(r.stdout).values()} == {(n // 2, n // 2, 0)}


def churn_spec(name):
    args = method_of(name).args
    return f"{name}:64:4" if "qd" in args else f"{name}:64" if "batch" in args else name


@pytest.mark.parametrize("spec", [churn_spec(m) for m in METHODS
                                  if COMPARE[m] != "none" and m != "dense"])
def test_agree_catches_a_changing_region(root, bins, spec):
    """A region that changes between the reads is a mismatch (exit 2), for every method
    that is compared.  The target churns on a CPU of its own at the highest CFS weight,
    so that even on a busy machine it most likely runs between the two reads; pmscan is
    run again until one pass sees a change, for up to a minute (not a fixed count)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs: the target must run while pmscan reads")
    n = 4000
    with Churn(n, cpus[0]) as c:
        deadline, tries = time.monotonic() + 60, 0
        while True:
            tries += 1
            r = agree(bins / "pmscan", [*c.args(), "--cpu", cpus[-1]], ["dense", spec])
            assert r.returncode in (EXIT_PASS, EXIT_INCORRECT), r.stderr
            assert "is not stopped" in r.stderr
            if r.returncode == EXIT_INCORRECT:
                break
            assert time.monotonic() < deadline, f"{tries} scans of a churning region all agreed"
    last = r.stdout.splitlines()[-1].split("\t")
    assert last[:2] == ["mismatch", spec], last
    assert last[2].startswith("index=") and int(last[2][6:]) < n
    assert last[3].startswith("want=0x") and last[4].startswith("got=0x") and last[3] != last[4]
    assert last[5] == "compare=" + COMPARE[method_of(spec).name]
    print(f"{spec}: caught after {tries} scan(s)")


@pytest.mark.parametrize("kind", ["private-anon", "memfd"])
def test_asan_agree(root, asan_bins, zram_swap, target, kind):
    n = 900
    touch = list(range(0, n, 3))
    out = touch[::3]
    t = target(kind, n, touch=touch, pageout=out)
    r = agree(asan_bins / "pmscan", t.args(), SPECS)
    assert r.returncode == EXIT_PASS, r.stdout + r.stderr
    res = parse_agree(r.stdout)
    assert list(res) == SPECS
    for c in by_compare(res, "none").values():
        assert states(c) == (n - len(touch), len(touch) - len(out), len(out))
