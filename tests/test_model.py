"""pmbench model on synthetic runs whose ns come from known coefficients (docs/model.md).

The synthetic cost is the model's own: a per syscall, r per entry returned, and one
cost per kind of entry walked (none, present and swap PTEs, entries without a page
table or past the region's end), plus c per none PTE walked in shmem.
"""
import json
import shutil

import pytest

import synth
from helpers import EXIT_PASS, EXIT_SKIP, EXIT_USAGE, read_tsv, run_pmbench

TRUTH = {"a": 250.0, "b": 10.0, "b_present": 40.0, "b_swap": 20.0, "b_hole": 5.0, "r": 3.0,
         "c": 30.0}
WALK = ("b", "b_present", "b_swap", "b_hole", "c")


def mixed_cases(start=None):
    """Shmem cases with none fractions 0, 0.5 and 1, private ones with and without
    none PTEs, and a second mapper that never touched a memfd (all holes)."""
    cases = [synth.make_view_case("memfd", dirty=100, swapped=50),
             synth.make_view_case("memfd", swapout="none", dirty=100, swapped=0),
             synth.make_view_case("shared-anon", swapout="none", dirty=50, swapped=0),
             synth.make_view_case("shared-anon", dirty=100, swapped=100),
             synth.make_view_case("private-anon", dirty=100, swapped=50),
             synth.make_view_case("private-anon", dirty=50, swapped=50),
             synth.make_view_case("memfd", view="second-mapper", dirty=100, swapped=50)]
    if start is not None:
        for c in cases:
            c["start_pmd_pos"] = start
    return cases


def write(tmp_path, name, hyp, coefs=None, cases=None, seed=1, sigma=0.01, starts=None,
          run_id=None):
    cases = cases or mixed_cases()
    d = synth.write_run(tmp_path / name, cases, seed=seed, sigma=sigma, run_id=run_id,
                        sampler=synth.cost_sampler(coefs or TRUTH, hyp, n_sparse=200,
                                                   starts=starts))
    if any("view" in c for c in cases):
        synth.add_view_column(d, cases)
    return d


def model(pmb, *args):
    return run_pmbench(pmb, "model", *args, "--resamples", 300)


def load(prefix):
    rows = read_tsv(f"{prefix}.tsv", "model")
    with open(f"{prefix}.json") as f:
        js = json.load(f)
    assert js["schema"] == "pagemap-bench-model/1"
    return rows, js


def close(v, want, pct):
    return abs(v - want) <= abs(want) * pct / 100


def exact_truth(truth=TRUTH):
    """Under 'exact' every entry walked is returned: r is absorbed by the walk costs."""
    return {k: v + truth["r"] if k in ("b", "b_present", "b_swap", "b_hole") else v
            for k, v in truth.items()}


def assert_recovered(fit, pct, truth=TRUTH, skip=()):
    for k, want in truth.items():
        if k in skip:
            continue
        assert fit[k]["identifiable"], (k, fit[k])
        assert close(fit[k]["value"], want, pct), (k, fit[k])
        assert fit[k]["ci_lo"] <= fit[k]["value"] <= fit[k]["ci_hi"]


@pytest.mark.parametrize("hyp,start", [("exact", None), ("pmd", None), ("pmd", 200)])
def test_fit_recovers_coefficients_and_hypothesis(pmb, tmp_path, hyp, start):
    d = write(tmp_path, "run", hyp, cases=mixed_cases(start))
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    rows, js = load(d / "model")
    run = js["runs"][0]
    assert run["better_fit"] == hyp
    assert f"better fit: {hyp}" in p.stdout
    fit = run["fits"][hyp]
    if hyp == "exact":
        # Every entry walked is returned: r cannot be told from the walk costs.
        assert fit["r"]["identifiable"] is False and fit["r"]["value"] is None
        assert "under 'exact'" in fit["r"]["note"]
        assert_recovered(fit, 3, exact_truth(), skip=("r",))
    else:
        assert_recovered(fit, 3)
    other = run["fits"]["pmd" if hyp == "exact" else "exact"]
    assert other["rms_rel_err"] > 3 * fit["rms_rel_err"]
    assert fit["rms_rel_err"] < 0.02 and fit["series_rms_rel_err"] < 0.02
    # Sparse reads whose walk may end in the region's last, partial block are left out.
    assert (run["sparse_reads_left_out"] > 0) == (start is not None)
    # The TSV says the same as the JSON, one row per coefficient.
    for k in TRUTH:
        got = [r for r in rows if r["run"] == "DIR" and r["hypothesis"] == hyp and
               r["quantity"] == k]
        assert len(got) == 1, k
        if fit[k]["value"] is not None:
            assert close(float(got[0]["value"]), fit[k]["value"], 0.01)
    assert run["cases_start_assumed_aligned"] == (7 if start is None else 0)


def test_walk_past_the_end_is_a_hole(pmb, tmp_path):
    """A region that does not start on a 2 MiB boundary: under pmd, the walk past its
    end costs b_hole, not the case's mix.  Without holes elsewhere (no second mapper)
    b_hole is fitted from those entries alone."""
    cases = [c for c in mixed_cases(300) if c.get("view") == "self"]
    d = write(tmp_path, "run", "pmd", cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    fit = load(d / "model")[1]["runs"][0]["fits"]["pmd"]
    assert_recovered(fit, 5, skip=("b_hole",))
    # Few entries lie past the end (one partial block per pass), so b_hole is loose.
    h = fit["b_hole"]
    assert h["ci_lo"] <= TRUTH["b_hole"] <= h["ci_hi"] and close(h["value"], 5.0, 20), h


def test_walk_amplification(pmb, tmp_path):
    d = write(tmp_path, "run", "pmd")
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    amp = {(r["method"], r["batch"]): r for r in load(d / "model")[1]["runs"][0]
           ["walk_amplification"]}
    assert all(r["exact"] == 1 for r in amp.values())
    # A region on a 2 MiB boundary: 1-entry reads walk (512 + 1) / 2 on average,
    # 512-entry reads walk exactly their block, a dense read its region.
    assert amp[("batched", 1)]["pmd"] == pytest.approx(256.5)
    assert amp[("batched", 512)]["pmd"] == pytest.approx(1.0)
    assert amp[("dense", 4096)]["pmd"] == pytest.approx(1.0)
    assert 200 < amp[("sparse", 1)]["pmd"] < 310


def test_private_only_c_not_identifiable(pmb, tmp_path):
    cases = [synth.make_case("private-anon", dirty=100, swapped=50),
             synth.make_case("private-anon", dirty=50, swapped=50),
             synth.make_case("private-anon", swapout="none", dirty=50, swapped=0)]
    d = write(tmp_path, "run", "exact", coefs=dict(TRUTH, c=0.0), cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    fit = load(d / "model")[1]["runs"][0]["fits"]["exact"]
    c = fit["c"]
    assert c["identifiable"] is False and c["value"] is None
    assert "no shmem case" in c["note"]
    assert fit["b_hole"]["identifiable"] is False
    assert "not identifiable" in p.stdout
    assert_recovered(fit, 3, exact_truth(), skip=("r", "c", "b_hole"))


def test_same_none_fraction_everywhere_c_not_identifiable(pmb, tmp_path):
    cases = [synth.make_case("memfd", dirty=100, swapped=50),
             synth.make_case("shared-anon", swapout="none", dirty=50, swapped=0)]
    d = write(tmp_path, "run", "exact", cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    c = load(d / "model")[1]["runs"][0]["fits"]["exact"]["c"]
    assert c["identifiable"] is False and "proportional" in c["note"]


def test_only_c_changes(pmb, tmp_path):
    stock = write(tmp_path, "stock", "pmd", coefs=dict(TRUTH, c=0.0), seed=1)
    patched = write(tmp_path, "patched", "pmd", coefs=dict(TRUTH, c=25.0), seed=2)
    p = model(pmb, stock, patched)
    assert p.returncode == EXIT_PASS, p.stderr
    rows, js = load(patched / "model-vs-stock")
    diff = js["diff"]
    assert diff["headline_hypothesis"] == "pmd"
    c = diff["pmd"]["c"]
    assert close(c["value"], 25.0, 3) and c["ci_lo"] > 0
    assert c["verdict"].startswith("c rises by ") and "per none entry" in c["verdict"]
    for k in ("a", "b", "b_present", "b_swap", "b_hole", "r"):
        d = diff["pmd"][k]
        assert abs(d["value"]) <= 0.03 * TRUTH[k], (k, d)
        assert d["verdict"].startswith(k), d
    assert "c rises by" in p.stdout
    assert {r["run"] for r in rows} == {"DIR", "DIR2", "diff"}
    assert {r["quantity"] for r in rows if r["run"] == "diff"} >= set(TRUTH)


def test_private_cost_change_is_not_blamed_on_shmem(pmb, tmp_path):
    """The failure the old model had on real data: a change that only present pages
    pay must show in b_present, with c unchanged."""
    stock = write(tmp_path, "stock", "pmd", seed=3)
    cand = write(tmp_path, "cand", "pmd", coefs=dict(TRUTH, b_present=60.0), seed=4)
    p = model(pmb, stock, cand)
    assert p.returncode == EXIT_PASS, p.stderr
    diff = load(cand / "model-vs-stock")[1]["diff"]["pmd"]
    assert close(diff["b_present"]["value"], 20.0, 5) and diff["b_present"]["ci_lo"] > 0
    assert abs(diff["c"]["value"]) <= 0.03 * TRUTH["c"], diff["c"]


def expected_sparse_slope(cases, coefs):
    """Under pmd each position further walks one entry less: minus the mean cost of an
    entry walked, over the cases (each has the same number of sparse reads)."""
    per = [sum(coefs[k] * f for k, f in synth.entry_mix(c).items()) for c in cases]
    return -sum(per) / len(per)


def test_sparse_slope(pmb, tmp_path):
    for hyp in ("exact", "pmd"):
        d = write(tmp_path, hyp, hyp)
        p = model(pmb, d)
        assert p.returncode == EXIT_PASS, p.stderr
        sp = load(d / "model")[1]["runs"][0]["sparse"]
        s = sp["slope_ns_per_pos"]
        assert sp["reads"] == 7 * 200 and len(sp["buckets"]) == 64
        if hyp == "exact":
            assert s["ci_lo"] <= 0 <= s["ci_hi"] and abs(s["value"]) < 0.1
        else:
            want = expected_sparse_slope(mixed_cases(), TRUTH)
            assert s["ci_hi"] < 0 and close(s["value"], want, 15), (s, want)
            med = [b["median_ns"] for b in sp["buckets"]]
            assert med[0] > 10 * med[-1]


def merged_pair(pmb, tmp_path, starts=(37, 421)):
    """Two boots of one kernel whose regions start at different PMD positions,
    merged by pmbench merge into tmp_path/stock next to tmp_path/boots/."""
    boots = []
    for i, st in enumerate(starts):
        rid = f"20261126T03000{i}Z-6.1.0"
        boots.append(write(tmp_path / "boots", rid, "pmd", cases=mixed_cases(st), seed=10,
                           run_id=rid))
    out = tmp_path / "stock"
    p = run_pmbench(pmb, "merge", "--out", out, *boots)
    assert p.returncode == EXIT_PASS, p.stderr
    return out, boots


def test_merged_run_uses_each_sources_start(pmb, tmp_path):
    merged, _ = merged_pair(pmb, tmp_path)
    p = model(pmb, merged)
    assert p.returncode == EXIT_PASS, p.stderr
    run = load(merged / "model")[1]["runs"][0]
    assert run["merged_sources_found"] == 2 and run["samples_start_from_first_source"] == 0
    assert "merged from 2 runs, 2 of whose cases.tsv were found" in p.stdout
    assert run["better_fit"] == "pmd"
    assert_recovered(run["fits"]["pmd"], 3)


def test_merged_run_without_its_sources_says_so(pmb, tmp_path):
    merged, _ = merged_pair(pmb, tmp_path)
    shutil.move(tmp_path / "boots", tmp_path / "elsewhere")
    p = model(pmb, merged)
    assert p.returncode == EXIT_PASS, p.stderr
    run = load(merged / "model")[1]["runs"][0]
    assert run["merged_sources_found"] == 0 and run["samples_start_from_first_source"] > 0
    assert "source not found" in p.stdout


def test_residuals(pmb, tmp_path):
    d = write(tmp_path, "run", "pmd")
    p = model(pmb, d, "--residuals")
    assert p.returncode == EXIT_PASS, p.stderr
    lines = [l.split() for l in p.stdout.splitlines()
             if l.startswith("  memfd-pageout-p4096-d100-s50 ")]
    assert len(lines) == len(synth.DEFAULT_SERIES)
    for l in lines:
        assert 0.97 < float(l[-1]) < 1.03, l


def test_never_overwrites(pmb, tmp_path):
    d = write(tmp_path, "run", "exact")
    for _ in range(2):
        assert model(pmb, d).returncode == EXIT_PASS
    assert (d / "model.tsv").exists() and (d / "model-2.tsv").exists()
    assert (d / "model-2.json").exists()
    out = tmp_path / "mine"
    p = model(pmb, d, "--out", out)
    assert p.returncode == EXIT_PASS and (tmp_path / "mine.json").exists()


def test_excluded_methods_are_named(pmb, tmp_path):
    series = synth.DEFAULT_SERIES + [("userspace", 0, 1)]
    cases = mixed_cases()
    for c in cases:
        c["series"] = series
    d = write(tmp_path, "run", "exact", cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    assert "excluded" in p.stdout and "userspace 140" in p.stdout
    assert load(d / "model")[1]["runs"][0]["excluded_rows"] == {"userspace": 140}


def test_bad_inputs(pmb, tmp_path):
    p = model(pmb, tmp_path / "missing")
    assert p.returncode == EXIT_USAGE and len(p.stderr.strip().splitlines()) == 1
    d = synth.write_run(tmp_path / "v2", mixed_cases(), schema="pagemap-bench/2")
    p = model(pmb, d)
    assert p.returncode == EXIT_USAGE and "schema" in p.stderr
    only_userspace = mixed_cases()
    for c in only_userspace:
        c["series"] = [("userspace", 0, 1)]
    d = synth.write_run(tmp_path / "nosamples", only_userspace)
    p = model(pmb, d)
    assert p.returncode == EXIT_SKIP and "cannot be fitted" in p.stderr
    d = synth.write_run(tmp_path / "killed", mixed_cases(), status="interrupted")
    assert model(pmb, d).returncode == EXIT_SKIP
    assert model(pmb).returncode == EXIT_USAGE
    assert model(pmb, d, d, d).returncode == EXIT_USAGE
    assert run_pmbench(pmb, "model", d, "--resamples", "1").returncode == EXIT_USAGE
    p = run_pmbench(pmb, "model", "--help")
    assert p.returncode == EXIT_PASS and "usage: pmbench model" in p.stdout
    assert "--residuals" in p.stdout


def test_singular_fit_is_a_skip(pmb, tmp_path):
    # Only dense reads of one size: syscalls and entries walked are proportional.
    cases = [synth.make_case("private-anon", series=[("dense", 0, 1)])]
    d = write(tmp_path, "run", "exact", cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_SKIP and "singular" in p.stderr


def with_outliers(sampler, every=50, factor=40):
    """Every `every`-th measured sample becomes `factor` times slower (a preempted read)."""
    def wrapped(case, rng, n, warmup, sigma):
        rows, values = sampler(case, rng, n, warmup, sigma)
        for i, r in enumerate(rows):
            if i % every == every - 1 and not r["warmup"]:
                r["ns"] *= factor
        return rows, values
    return wrapped


@pytest.mark.parametrize("hyp", ["exact", "pmd"])
def test_robust_weighting_resists_outliers(pmb, tmp_path, hyp):
    cases = mixed_cases()
    d = synth.write_run(tmp_path / "run", cases, seed=5, sigma=0.01,
                        sampler=with_outliers(synth.cost_sampler(TRUTH, hyp, n_sparse=200)))
    synth.add_view_column(d, cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    run = load(d / "model")[1]["runs"][0]
    fit = run["fits"][hyp]
    assert run["better_fit"] == hyp
    assert fit["downweighted"] > 0 and "downweighted as outliers" in p.stdout
    if hyp == "exact":
        assert_recovered(fit, 5, exact_truth(), skip=("r",))
    else:
        assert_recovered(fit, 5)


@pytest.mark.parametrize("weight", ["ols", "relative"])
def test_other_weightings(pmb, tmp_path, weight):
    d = write(tmp_path, "run", "exact")
    p = model(pmb, d, "--weight", weight)
    assert p.returncode == EXIT_PASS, p.stderr
    js = load(d / "model")[1]
    assert js["weight"] == weight
    assert_recovered(js["runs"][0]["fits"]["exact"], 3, exact_truth(), skip=("r",))
    assert run_pmbench(pmb, "model", d, "--weight", "lad").returncode == EXIT_USAGE
