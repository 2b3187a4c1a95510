"""pmbench run / verify / cleanup end to end, on the running kernel.

These build real memory states in real cgroups on a real zram swap device,
so most of them need root; CI runs them as root.
"""
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import (EXIT_INCORRECT, EXIT_PASS, EXIT_SKIP, EXIT_USAGE, QUICK_KINDS, TIMEOUT,
                     is_root, machine_state, read_tsv, run_pmbench, wait_until)

SMALL = ["--size", "4M", "--rounds", "2", "--warmup", "1", "--series", "2", "--sparse-reads", "16",
         "--batches", "1,64,1024"]


def run_dir(results):
    return Path(results / "latest").resolve()


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("args, what", [
    (["run", "--size", "banana"], "--size"),
    (["run", "--dirty", "150"], "--dirty"),
    (["run", "--swapped", "-5%"], "--swapped"),
    (["run", "--kinds", "memfd,nosuch"], "--kinds"),
    (["run", "--swapout", "pageout,teleport"], "--swapout"),
    (["run", "--methods", "dense,magic"], "--methods"),
    (["run", "--batches", "0"], "--batches"),
    (["run", "--layout", "diagonal"], "--layout"),
    (["run", "--rounds", "0"], "--rounds"),
    (["run", "--cpu", "4096"], "--cpu"),
    (["run", "--profile", "huge"], "--profile"),
    (["run", "--cgroup", "v3"], "--cgroup"),
    (["run", "--bogus"], "--bogus"),
    (["run", "stray-argument"], "stray-argument"),
    (["verify", "--size", "3000"], "--size"),
    (["frobnicate"], "frobnicate"),
    (["cleanup", "extra"], "cleanup"),
])
def test_bad_input_is_one_line_and_usage_code(pmb, args, what):
    r = run_pmbench(pmb, *args)
    assert r.returncode == EXIT_USAGE, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert what in lines[0]
    assert r.stdout == ""


def test_help_documents_exit_codes(pmb):
    for sub in ("run", "verify", "cleanup"):
        r = run_pmbench(pmb, sub, "--help")
        assert r.returncode == EXIT_PASS
        assert "usage: pmbench " + sub in r.stdout
    r = run_pmbench(pmb, "run", "--help")
    assert "77" in r.stdout and "64" in r.stdout


def test_not_root_is_a_skip_with_reason(pmb, tmp_path):
    if not is_root():
        r = run_pmbench(pmb, "verify", "--results", str(tmp_path))
    else:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            str(pmb), "verify", "--results", str(tmp_path)],
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == EXIT_SKIP
    assert "needs root" in r.stderr
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- verify

def check_ktap(out, ncases):
    lines = out.splitlines()
    assert lines[0] == "KTAP version 1"
    assert f"1..{ncases}" in lines
    results = [l for l in lines if l.startswith("ok ") or l.startswith("not ok ")]
    assert len(results) == ncases
    for i, l in enumerate(results, 1):
        assert l.split()[1 if l.startswith("ok") else 2] == str(i)
    return results


def test_verify_judges_every_kind_and_mode(pmb, tmp_path, zram_swap, clean_machine):
    """The verdicts on this kernel, checked against the oracle's own cross-checks.

    Private anonymous swap is reported by every kernel; shmem swap only by a
    patched one, so for shmem the only error a kernel may make is the one the
    patch fixes: swapped pages reported as none.
    """
    r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--swap", "existing", *SMALL)
    d = run_dir(tmp_path)
    cases = {c["case"]: c for c in read_tsv(d / "cases.tsv", "cases")}
    # the quick kinds, each swapped out by pageout and by cgroup
    assert sorted(c["kind"] for c in cases.values()) == sorted(QUICK_KINDS * 2)
    results = check_ktap(r.stdout, len(cases))
    for c in cases.values():
        assert c["verdict"] in ("correct", "incorrect"), c
        assert int(c["true_swapped"]) > 0
        assert c["smaps_swap_kb"] == c["oracle_swap_kb"]
        assert c["methods_agree"] == "yes"
        assert int(c["swap_bad_type"]) == int(c["swap_bad_offset"]) == int(c["swap_dup"]) == 0
        assert int(c["swap_content_bad"]) == 0
        # Nothing but swapped pages may be misreported, and only as none.
        off = {k: int(v) for k, v in c.items() if k.startswith("t_") and
               k.split("_r_")[0][2:] != k.split("_r_")[1]}
        assert sum(v for k, v in off.items() if k != "t_swapped_r_none") == 0, c
        if c["kind"] == "private-anon":
            assert c["verdict"] == "correct"
            assert int(c["swap_content_ok"]) == int(c["true_swapped"])
        if c["verdict"] == "incorrect":
            assert int(c["t_swapped_r_none"]) == int(c["true_swapped"])
            assert "not ok" in [l for l in results if c["case"] in l][0]
    incorrect = any(c["verdict"] == "incorrect" for c in cases.values())
    assert r.returncode == (EXIT_INCORRECT if incorrect else EXIT_PASS), r.stderr
    assert (d / "verify.ktap").read_text().startswith("KTAP version 1")


@pytest.mark.parametrize("layout", ["contiguous", "strided", "random"])
def test_pageout_reaches_the_exact_state(pmb, tmp_path, zram_swap, clean_machine, layout):
    r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--swap", "existing", "--size", "2M",
                    "--swapout", "pageout", "--dirty", "75", "--swapped", "50", "--layout", layout)
    assert r.returncode in (EXIT_PASS, EXIT_INCORRECT), r.stderr
    cases = read_tsv(run_dir(tmp_path) / "cases.tsv", "cases")
    assert sorted(c["kind"] for c in cases) == sorted(QUICK_KINDS)
    # On a busy machine MADV_PAGEOUT can leave a chosen page in memory; pmbench says how many.
    missed = {case: int(n) for case, n in
              re.findall(r"(\S+): MADV_PAGEOUT missed (\d+) chosen pages", r.stderr)}
    for c in cases:
        pages, m = int(c["pages"]), missed.get(c["case"], 0)
        dirtied = round(pages * 0.75)
        assert int(c["true_none"]) == pages - dirtied
        assert int(c["true_swapped"]) == round(dirtied * 0.5) - m
        assert int(c["true_present"]) == dirtied - round(dirtied * 0.5) + m


def test_cgroup_limit_swaps_about_the_requested_share(pmb, tmp_path, zram_swap, clean_machine):
    r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--swap", "existing",
                    "--size", "32M", "--swapout", "cgroup", "--swapped", "50")
    assert r.returncode in (EXIT_PASS, EXIT_INCORRECT), r.stderr
    meta = json.loads((run_dir(tmp_path) / "meta.json").read_text())
    assert meta["cgroup"]["mode"] in ("v1", "v2")
    cases = read_tsv(run_dir(tmp_path) / "cases.tsv", "cases")
    assert sorted(c["kind"] for c in cases) == sorted(QUICK_KINDS)
    for c in cases:
        pages = int(c["pages"])
        # The limit is half the region plus 1 MiB of slack for the workload itself.
        assert pages * 0.35 < int(c["true_swapped"]) <= pages * 0.5, c
        assert c["smaps_swap_kb"] == c["oracle_swap_kb"]


def test_cgroup_mode_without_that_hierarchy_skips(pmb, tmp_path, zram_swap, clean_machine):
    meta_mode = "v2" if Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() else "v1"
    r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--swap", "existing", "--size", "2M",
                    "--swapout", "cgroup", "--cgroup", meta_mode, "--kinds", "memfd")
    assert r.returncode == EXIT_SKIP, r.stdout + r.stderr
    assert "# SKIP no memory cgroup" in r.stdout


# ---------------------------------------------------------------- results

def test_run_writes_a_complete_self_describing_directory(pmb, tmp_path, clean_machine):
    r = run_pmbench(pmb, "run", "--results", str(tmp_path), "--kinds", "memfd,private-anon",
                    "--swapout", "pageout", *SMALL)
    assert r.returncode == EXIT_PASS, r.stderr
    d = run_dir(tmp_path)
    meta = json.loads((d / "meta.json").read_text())
    assert meta["schema"] == "pagemap-bench/1"
    assert meta["status"] == "complete"
    for key in ("kernel", "host", "swap", "cgroup", "thp", "build", "params", "command_line"):
        assert key in meta
    assert meta["kernel"]["release"] == os.uname().release
    assert meta["swap"]["kind"] == "zram" and meta["swap"]["created"] is True
    assert meta["params"]["kinds"] == ["memfd", "private-anon"]

    samples = read_tsv(d / "samples.tsv", "samples")
    cols = "case method batch qd series round warmup discarded entries reads ns pmd_pos".split()
    assert list(samples[0].keys()) == cols
    cases = {s["case"] for s in samples}
    assert len(cases) == 2
    measured = [s for s in samples if s["warmup"] == "0"]
    warm = [s for s in samples if s["warmup"] == "1"]
    assert measured and warm
    for s in samples:
        assert int(s["ns"]) > 0
        assert int(s["series"]) < meta["params"]["max_series"]
        if s["method"] == "probe":
            # The host's speed beside each state: steps of its pointer chase, not pages.
            assert s["entries"] == "131072" and s["reads"] == "0" and s["pmd_pos"] == "-1"
        elif s["method"] == "sparse":
            assert 0 <= int(s["pmd_pos"]) < 512 and s["entries"] == "1"
        elif s["method"] == "swapin":
            # Swap-in: every swapped page faulted back, timed by the workload.  A state's first
            # round takes all 512; later ones what MADV_PAGEOUT put back in swap in between.
            assert 0 < int(s["entries"]) <= 512 and s["reads"] == "0"
            if s["round"] == "0":
                assert int(s["entries"]) == 512
        else:
            assert s["pmd_pos"] == "-1"
            assert int(s["entries"]) == 1024  # 4 MiB of 4 KiB pages
    # The probe: 10 measured samples beside every state timed (each timed every series).
    # Swap-in: one round in every state before it is rebuilt, the quick profile's 5 in the last,
    # each numbered as its state.
    for case in cases:
        probe = [s for s in measured if s["method"] == "probe" and s["case"] == case]
        states = {s["series"] for s in samples if s["method"] == "dense" and s["case"] == case}
        assert len(states) >= 2
        assert {s["series"] for s in probe} == states
        assert len(probe) == 10 * len(states)
        swapin = [(int(s["series"]), int(s["round"])) for s in samples
                  if s["method"] == "swapin" and s["case"] == case]
        last = max(int(k) for k in states)
        assert sorted(swapin) == [(k, 0) for k in range(last)] + [(last, r) for r in range(5)]
    summary = read_tsv(d / "summary.tsv", "summary")
    # dense + sparse + 3 batch sizes + swapin + probe, per case
    assert len(summary) == 2 * 7
    for row in summary:
        assert float(row["ci_lo_ns_per_entry"]) <= float(row["median_ns_per_entry"]) \
            <= float(row["ci_hi_ns_per_entry"])
        assert int(row["n"]) >= 4
    assert "ns/entry" in r.stdout and "95% CI" in r.stdout
    assert (d / "summary.txt").read_text() == r.stdout


# ---------------------------------------------------------------- adaptive sampling

STOPPED = re.compile(r"^(budget spent|max-series) after (\d+) states?, (\d+) added rounds, ([\d.]+) s "
                     r"\(next: (another state|more rounds), about ([\d.]+) s\): (\d+) series above "
                     r"([\d.]+)%, widest (\w+):b(\d+):qd(\d+) ([\d.]+)%")


def test_precision_met_stops_at_the_minimum_states(pmb, tmp_path, clean_machine):
    # sparse's intervals are a few percent wide even on a busy host: 50% is met at once.
    r = run_pmbench(pmb, "run", "--results", str(tmp_path), "--kinds", "private-anon", "--swapout",
                    "pageout", "--size", "4M", "--methods", "sparse", "--sparse-reads", "32", "--rounds",
                    "3", "--warmup", "1", "--series", "3", "--precision", "50", "--swapin-rounds", "1")
    assert r.returncode == EXIT_PASS, r.stderr
    d = run_dir(tmp_path)
    (case,) = read_tsv(d / "cases.tsv", "cases")
    m = re.match(r"^met: every series within 50\.00% \(widest ([\d.]+)%\) after 3 states, "
                 r"0 added rounds, [\d.]+ s$", case["sampling"])
    assert m, case["sampling"]
    assert case["series_total"] == "3"
    (row,) = [s for s in read_tsv(d / "summary.tsv", "summary") if s["method"] == "sparse"]
    # The sampler stops on the interval the summary prints: same resamples, same seed.
    assert row["ci_halfwidth_pct"] == m.group(1)
    assert row["precision_met"] == "yes" and row["states"] == "3"


def test_a_missed_target_says_why_and_the_budget_bounds_the_steps(pmb, tmp_path, clean_machine):
    r = run_pmbench(pmb, "run", "--results", str(tmp_path), "--kinds", "private-anon", "--swapout",
                    "pageout", "--size", "4M", "--methods", "dense,batched", "--batches", "1,1024",
                    "--rounds", "3", "--warmup", "1", "--series", "2", "--max-series", "4",
                    "--precision", "0.01", "--time-budget", "3", "--swapin-rounds", "1")
    assert r.returncode == EXIT_PASS, r.stderr
    d = run_dir(tmp_path)
    (case,) = read_tsv(d / "cases.tsv", "cases")
    m = STOPPED.match(case["sampling"])
    assert m, case["sampling"]
    why, states, added, spent, cost = m.group(1), int(m.group(2)), int(m.group(3)), \
        float(m.group(4)), float(m.group(6))
    assert m.group(8) == "0.01"
    assert states == int(case["series_total"]) >= 2
    if why == "budget spent":
        # The step not taken is the one that would not fit (figures as recorded, not timed here).
        assert spent + cost > 3
    else:
        # No state may be added, and the state at hand has its most rounds (8 x --rounds).
        assert states == 4
    summary = {(s["method"], s["batch"]): s for s in read_tsv(d / "summary.tsv", "summary")}
    widest = summary[(m.group(9), m.group(10))]
    assert widest["ci_halfwidth_pct"] == m.group(12)
    assert widest["precision_met"] == "no"
    assert int(m.group(7)) == sum(s["precision_met"] == "no" for s in summary.values()
                                  if s["method"] != "swapin")
    # Added rounds continue a state's numbering: no (state, round) is timed twice for a series,
    # the co-metrics' included (swap-in and the probe are numbered with the states they follow).
    timed_rows = [s for s in read_tsv(d / "samples.tsv", "samples") if s["warmup"] == "0"]
    keys = [(s["method"], s["batch"], s["series"], s["round"]) for s in timed_rows]
    assert len(keys) == len(set(keys))
    # --swapin-rounds 1: one swap-in round in every state, the last included.
    assert sorted(s["series"] for s in timed_rows if s["method"] == "swapin") == \
        sorted({s["series"] for s in timed_rows if s["method"] == "dense"})
    measured = [s for s in timed_rows if s["method"] not in ("swapin", "probe")]
    per_series = {}
    for s in measured:
        per_series[(s["method"], s["batch"])] = per_series.get((s["method"], s["batch"]), 0) + 1
    # Every series has each state's rounds; added rounds go to the series above the target only.
    assert max(per_series.values()) <= 3 * states + added
    if case["series_discarded"] == "0":
        assert min(per_series.values()) >= 3 * states
        assert max(per_series.values()) == 3 * states + added


def test_run_directories_are_never_reused(pmb, tmp_path, clean_machine):
    ids = set()
    for _ in range(2):
        r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--kinds", "private-anon",
                        "--swapout", "none", "--size", "1M")
        assert r.returncode == EXIT_PASS, r.stderr
        ids.add(run_dir(tmp_path).name)
    assert len(ids) == 2
    assert len([p for p in tmp_path.iterdir() if not p.is_symlink()]) == 2


# ---------------------------------------------------------------- cleanup

def start_long_run(pmb, results):
    return subprocess.Popen([str(pmb), "run", "--results", str(results),
                             "--kinds", "memfd", "--swapout", "cgroup", "--size", "64M",
                             "--rounds", "1000", "--series", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_workload(p):
    def started():
        assert p.poll() is None, p.communicate()
        state = machine_state()
        return state["cgroups"] and state["procs"]
    wait_until(started, "the run starting its workload")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cleans_up_and_marks_interrupted(pmb, tmp_path, clean_machine, sig):
    p = start_long_run(pmb, tmp_path)
    try:
        wait_for_workload(p)
        assert machine_state()["zram"], "the run set up no zram device"
        p.send_signal(sig)
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + sig, err
    assert "interrupted" in err
    # The progress line says where it stopped, not that every case was done.
    assert "[0/1] interrupted by signal %d" % sig in err, err
    assert "cases done" not in err
    meta = json.loads((run_dir(tmp_path) / "meta.json").read_text())
    assert meta["status"] == "interrupted"


def test_sigkill_leftovers_are_cleaned_by_the_next_start(pmb, tmp_path, clean_machine):
    # /run/pagemap-bench is the machine's: a pmbench started elsewhere meanwhile would sweep
    # these leftovers first.  (A mount namespace with a private one does not do: swap
    # paths in /proc/swaps then differ between namespaces, and cleanup misses the swap.)
    p = start_long_run(pmb, tmp_path)
    try:
        wait_for_workload(p)
        left = machine_state()
        assert left["zram"] and left["cgroups"] and left["swaps"]
        p.kill()
        p.wait()
        # Its children die with it (PR_SET_PDEATHSIG); swap, zram and cgroup stay.
        wait_until(lambda: not set(machine_state()["procs"]) - set(clean_machine["procs"]),
                   "the workload dying with pmbench")
        assert machine_state()["cgroups"]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = run_pmbench(pmb, "cleanup")
    assert r.returncode == EXIT_PASS, r.stderr
    assert "leftover cgroup" in r.stderr and "zram" in r.stderr
    meta = json.loads((run_dir(tmp_path) / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    r = run_pmbench(pmb, "cleanup")
    assert r.stdout.strip() == "cleaned 0 leftover items"


def test_a_limit_that_kills_the_workload_is_an_oom_case_and_the_run_goes_on(pmb, tmp_path,
                                                                          clean_machine):
    # 2 MiB of swap cannot take 90% of 64 MiB: the memory cgroup OOM-kills the workload.
    r = run_pmbench(pmb, "verify", "--results", str(tmp_path), "--size", "64M,1M",
                    "--kinds", "private-anon", "--swapout", "cgroup", "--swapped", "90",
                    "--swap-size", "2M")
    cases = read_tsv(run_dir(tmp_path) / "cases.tsv", "cases")
    big, small = cases
    assert big["verdict"] == "oom" and "OOM-killed" in big["reason"], big
    assert small["verdict"] == "correct", small      # the run went on to the next case
    assert r.returncode == EXIT_PASS, r.stderr
    assert "# SKIP oom:" in r.stdout


# ---------------------------------------------------------------- selfcheck

def test_selfcheck_times_the_hook_against_a_bare_loop(pmb, clean_machine):
    r = run_pmbench(pmb, "selfcheck", "--size", "4M", "--rounds", "20")
    assert r.returncode == EXIT_PASS, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        kind, *fields = line.split("\t")
        if kind == "selfcheck":
            spec, *kv = fields
            rows[spec] = {k: float(v) for k, v in (f.split("=") for f in kv)}
        elif kind == "clock":
            clock = dict(f.split("=") for f in fields)
    assert set(rows) == {"dense", "batched:1", "batched:512"}, r.stdout
    for spec, f in rows.items():
        assert f["rounds"] == 20
        assert f["ci_lo"] <= f["ratio"] <= f["ci_hi"], (spec, f)
        assert f["paired_lo"] <= f["paired"] <= f["paired_hi"], (spec, f)
        assert f["method_ns_per_entry"] > 0 and f["bare_ns_per_entry"] > 0
        # The point ratio is the two medians' quotient, as printed.
        assert f["ratio"] == pytest.approx(f["method_ns_per_entry"] / f["bare_ns_per_entry"], rel=2e-3)
    # One entry per pread costs more per entry than 512 per pread, for the bare loop as for the hook.
    assert rows["batched:1"]["bare_ns_per_entry"] > rows["batched:512"]["bare_ns_per_entry"]
    assert float(clock["ns_per_read"]) > 0 and clock["sparse_subtracts"] == "no"
