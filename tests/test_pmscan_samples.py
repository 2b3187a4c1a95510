"""pmscan's timed mode: the sample rows every method writes, their counts and order,
the seeded interleaving, and reads that come back short.

The targets are stopped Python children (helpers.Target), not pmwork.
"""
import math

import pytest

from helpers import EXIT_ERROR, EXIT_PASS, METHODS, PAGE, PMD_PAGES, method_of, parse_samples, run, timed

W, R, K = 2, 3, 5
MIX = ["dense", "sparse", "batched:7", "batched:1", "batched:100"]


def spec_for(name):
    """One --method SPEC for a catalog method, with every argument it takes."""
    args = method_of(name).args
    return f"{name}:7:3" if "qd" in args else f"{name}:7" if "batch" in args else name


def test_format_rows_and_counts(root, bins, target):
    n = 100
    t = target("private-anon", n, touch=range(0, n, 2))
    rows = timed(bins / "pmscan", t.args(), MIX, warmup=W, rounds=R, sparse_reads=K)
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


def test_extra_pct_reads_more_and_counts_the_range(root, bins, target):
    """--extra-pct P: each pass reads the first P% of its range again; entries stay the range."""
    n = 100
    t = target("private-anon", n, touch=range(0, n, 2))
    rows = timed(bins / "pmscan", t.args(), ["dense", "batched:1", "batched:7", "sparse"], warmup=0,
                 rounds=2, sparse_reads=3, **{"extra-pct": 50})
    for r in rows:
        if r["method"] == "sparse":
            # Single reads time themselves: no pass to repeat.
            assert (r["entries"], r["reads"]) == (1, 1)
        elif r["batch"] == n:
            assert (r["entries"], r["reads"]) == (n, 2)
        else:
            assert r["entries"] == n
            assert r["reads"] == math.ceil(n / r["batch"]) + math.ceil(n // 2 / r["batch"])


def test_probe_times_the_host_without_pagemap(bins):
    """--probe: no target; rows of method probe, one per round, steps of its chase as entries."""
    r = run(bins / "pmscan", "--probe", "--rounds", 4, "--warmup", 2)
    assert r.returncode == EXIT_PASS, r.stderr
    rows = parse_samples(r.stdout)
    assert [(x["warmup"], x["round"]) for x in rows] == [(1, 0), (1, 1), (0, 0), (0, 1), (0, 2), (0, 3)]
    for x in rows:
        # 8 laps of 4 lines in each page of 16 MiB
        assert (x["method"], x["batch"], x["qd"], x["reads"], x["pmd_pos"]) == ("probe", 1, 1, 0, -1)
        assert x["entries"] == 8 * 4 * (16 << 20) // PAGE and x["ns"] > 0


@pytest.mark.parametrize("name", METHODS)
def test_every_method_rows(root, any_bins, target, name):
    """Each catalog method's rows have the shape its traits and arguments promise."""
    n = 1000
    t = target("memfd", n, touch=range(0, n, 4))
    spec, m = spec_for(name), method_of(name)
    rows = timed(any_bins / "pmscan", t.args(), [spec], warmup=1, rounds=R, sparse_reads=4)
    assert len(rows) == (1 + R) * (4 if "single" in m.traits else 1)
    for r in rows:
        assert r["method"] == name and r["ns"] > 0
        if "single" in m.traits:        # one row per single-entry read
            assert (r["batch"], r["qd"], r["entries"], r["reads"]) == (1, 1, 1, 1)
            assert 0 <= r["pmd_pos"] < PMD_PAGES
            continue
        assert r["entries"] == n and r["pmd_pos"] == -1
        if "batch" in m.args:
            assert (r["batch"], r["qd"]) == (7, 3 if "qd" in m.args else 1)
            assert r["reads"] == math.ceil(n / 7)
        else:
            assert (r["batch"], r["qd"]) == (n, 1)
            # a read() method reads the whole range at once; the others make as many
            # calls as they need
            assert r["reads"] == 1 if "read" in m.traits else r["reads"] >= 1


def test_sparse_pmd_pos(root, bins, target):
    # 100 pages starting mid-PMD: only 100 of the 512 positions are reachable
    n = 100
    t = target("shared-anon", n, touch=[0, 1, 50])
    rows = timed(bins / "pmscan", t.args(), ["sparse"], warmup=W, rounds=R, sparse_reads=K)
    reachable = {((t.addr >> 12) + i) % PMD_PAGES for i in range(n)}
    pos = [r["pmd_pos"] for r in rows]
    assert len(pos) == (W + R) * K
    assert set(pos) <= reachable


def test_seeded_and_interleaved(root, bins, target):
    t = target("private-anon", 300, touch=range(10))
    key = lambda rows: [(r["method"], r["batch"], r["round"], r["warmup"], r["pmd_pos"])
                        for r in rows]
    a = timed(bins / "pmscan", t.args(), MIX, warmup=W, rounds=R, sparse_reads=K, seed=7)
    b = timed(bins / "pmscan", t.args(), MIX, warmup=W, rounds=R, sparse_reads=K, seed=7)
    c = timed(bins / "pmscan", t.args(), MIX, warmup=W, rounds=R, sparse_reads=K, seed=8)
    assert key(a) == key(b)
    assert key(a) != key(c)
    # the order of the variants changes from round to round
    orders = set()
    for rnd in range(R):
        seq = [(r["method"], r["batch"]) for r in a if not r["warmup"] and r["round"] == rnd]
        orders.add(tuple(dict.fromkeys(seq)))
    assert len(orders) > 1


def test_uring_qd_beyond_reads(root, bins, target):
    """More room in flight than reads: one pass still issues ceil(N/B) reads."""
    t = target("private-anon", 10, touch=[1])
    rows = timed(bins / "pmscan", t.args(), ["uring:3:256", "uring:1048576:2"], warmup=1)
    assert {(r["batch"], r["qd"], r["reads"]) for r in rows} == {(3, 256, 4), (1048576, 2, 1)}


def test_uring_default_qd(root, bins, target):
    t = target("private-anon", 20)
    rows = timed(bins / "pmscan", t.args(), ["uring:5"], warmup=1)
    assert {(r["batch"], r["qd"], r["reads"]) for r in rows} == {(5, 8, 4)}


def test_scan_ioctl_continues_from_walk_end(root, bins, target):
    """Every other page touched: 12000 regions, more than one call's vector holds."""
    n = 12000
    t = target("private-anon", n, touch=range(0, n, 2))
    rows = timed(bins / "pmscan", t.args(), ["scan-ioctl"], warmup=1)
    assert rows and all(r["entries"] == n and r["reads"] >= 3 for r in rows)


@pytest.mark.parametrize("spec", [s for name in METHODS if name != "sparse"
                                  for s in ([spec_for(name), name + ":16"]
                                            if "qd" in method_of(name).args
                                            else [spec_for(name)])])
def test_short_read_is_an_error(root, any_bins, target, spec):
    """A range running past the end of user space: reads come back short, exit 3."""
    t = target("private-anon", 4, touch=[0])
    exe = any_bins / "pmscan"
    # Two pages below the end of user space (47 bits on x86-64, more with 5-level
    # paging or on other architectures), 10 pages long.
    for bits in (47, 48, 52, 56):
        argv = ["--pid", t.pid, "--addr", hex((1 << bits) - 2 * PAGE), "--pages", 10,
                "--rounds", 1, "--warmup", 0]
        if run(exe, *argv, "--method", "dense").returncode == EXIT_ERROR:
            break
    else:
        pytest.fail("dense read past every candidate end of user space without an error")
    r = run(exe, *argv, "--method", spec)
    assert r.returncode == EXIT_ERROR, r.stderr
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
