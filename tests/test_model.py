"""pmbench model on synthetic runs whose ns come from known a, b, c (docs/model.md)."""
import csv
import json

import pytest

import synth
from conftest import EXIT_PASS, EXIT_SKIP, EXIT_USAGE

A, B, C = 250.0, 12.0, 30.0


@pytest.fixture(scope="module")
def pmb():
    return synth.pmbench_binary()


def mixed_cases(start=None):
    """Shmem cases with none fractions 0, 0.5 and 1, and a private one."""
    cases = [synth.make_case("memfd", dirty=100, swapped=50),
             synth.make_case("memfd", swapout="none", dirty=100, swapped=0),
             synth.make_case("shared-anon", swapout="none", dirty=50, swapped=0),
             synth.make_case("shared-anon", dirty=100, swapped=100),
             synth.make_case("private-anon", dirty=100, swapped=50)]
    if start is not None:
        for c in cases:
            c["start_pmd_pos"] = start
    return cases


def write(tmp_path, name, hyp, a=A, b=B, c=C, cases=None, seed=1, sigma=0.01):
    return synth.write_run(tmp_path / name, cases or mixed_cases(), seed=seed, sigma=sigma,
                           sampler=synth.model_sampler(a, b, c, hyp, n_sparse=200))


def model(pmb, *args):
    return synth.run_pmbench(pmb, "model", *args, "--resamples", 300)


def load(prefix):
    with open(f"{prefix}.tsv") as f:
        assert f.readline() == "# pagemap-bench model v1\n"
        rows = list(csv.DictReader(f, delimiter="\t"))
    with open(f"{prefix}.json") as f:
        js = json.load(f)
    assert js["schema"] == "pagemap-bench-model/1"
    return rows, js


def close(v, want, pct):
    return abs(v - want) <= abs(want) * pct / 100


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
    for k, want in zip("abc", (A, B, C)):
        assert close(fit[k]["value"], want, 3), (k, fit[k])
        assert fit[k]["ci_lo"] <= fit[k]["value"] <= fit[k]["ci_hi"]
    other = run["fits"]["pmd" if hyp == "exact" else "exact"]
    assert other["rms_rel_err"] > 3 * fit["rms_rel_err"]
    assert fit["rms_rel_err"] < 0.02
    # The TSV says the same as the JSON.
    tsv_a = [r for r in rows if r["run"] == "DIR" and r["hypothesis"] == hyp and
             r["quantity"] == "a"]
    assert len(tsv_a) == 1 and close(float(tsv_a[0]["value"]), fit["a"]["value"], 0.01)
    assert run["cases_start_assumed_aligned"] == (5 if start is None else 0)


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
             synth.make_case("private-anon", swapout="none", dirty=50, swapped=0)]
    d = write(tmp_path, "run", "exact", c=0.0, cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    c = load(d / "model")[1]["runs"][0]["fits"]["exact"]["c"]
    assert c["identifiable"] is False and c["value"] is None
    assert "no shmem case" in c["note"]
    assert "not identifiable" in p.stdout


def test_same_none_fraction_everywhere_c_not_identifiable(pmb, tmp_path):
    cases = [synth.make_case("memfd", dirty=100, swapped=50),
             synth.make_case("shared-anon", swapout="none", dirty=50, swapped=0)]
    d = write(tmp_path, "run", "exact", cases=cases)
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    c = load(d / "model")[1]["runs"][0]["fits"]["exact"]["c"]
    assert c["identifiable"] is False and "proportional" in c["note"]


def test_only_c_changes(pmb, tmp_path):
    stock = write(tmp_path, "stock", "pmd", c=5.0, seed=1)
    patched = write(tmp_path, "patched", "pmd", c=30.0, seed=2)
    p = model(pmb, stock, patched)
    assert p.returncode == EXIT_PASS, p.stderr
    rows, js = load(patched / "model-vs-stock")
    diff = js["diff"]
    assert diff["headline_hypothesis"] == "pmd"
    c = diff["pmd"]["c"]
    assert close(c["value"], 25.0, 3) and c["ci_lo"] > 0
    assert c["verdict"].startswith("c rises by ") and "per none entry" in c["verdict"]
    for k in "ab":
        assert diff["pmd"][k]["ci_lo"] <= 0 <= diff["pmd"][k]["ci_hi"], diff["pmd"][k]
        assert "no change within noise" in diff["pmd"][k]["verdict"]
    assert "c rises by" in p.stdout
    assert {r["run"] for r in rows} == {"DIR", "DIR2", "diff"}


def test_sparse_slope(pmb, tmp_path):
    for hyp in ("exact", "pmd"):
        d = write(tmp_path, hyp, hyp)
        p = model(pmb, d)
        assert p.returncode == EXIT_PASS, p.stderr
        sp = load(d / "model")[1]["runs"][0]["sparse"]
        s = sp["slope_ns_per_pos"]
        assert sp["reads"] == 5 * 200 and len(sp["buckets"]) == 64
        if hyp == "exact":
            assert s["ci_lo"] <= 0 <= s["ci_hi"] and abs(s["value"]) < 0.1
        else:
            # Each position further walks one entry less: -(b + c * mean f).
            assert s["ci_hi"] < 0 and close(s["value"], -(B + C * 0.4), 15)
            med = [b["median_ns"] for b in sp["buckets"]]
            assert med[0] > 10 * med[-1]


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
    assert "excluded" in p.stdout and "userspace 100" in p.stdout
    assert load(d / "model")[1]["runs"][0]["excluded_rows"] == {"userspace": 100}


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
    assert synth.run_pmbench(pmb, "model", d, "--resamples", "1").returncode == EXIT_USAGE
    p = synth.run_pmbench(pmb, "model", "--help")
    assert p.returncode == EXIT_PASS and "usage: pmbench model" in p.stdout


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
    d = synth.write_run(tmp_path / "run", mixed_cases(), seed=5, sigma=0.01,
                        sampler=with_outliers(synth.model_sampler(A, B, C, hyp, n_sparse=200)))
    p = model(pmb, d)
    assert p.returncode == EXIT_PASS, p.stderr
    run = load(d / "model")[1]["runs"][0]
    fit = run["fits"][hyp]
    assert run["better_fit"] == hyp
    assert fit["downweighted"] > 0 and "downweighted as outliers" in p.stdout
    for k, want in zip("abc", (A, B, C)):
        assert close(fit[k]["value"], want, 5), (k, fit[k])


@pytest.mark.parametrize("weight", ["ols", "relative"])
def test_other_weightings(pmb, tmp_path, weight):
    d = write(tmp_path, "run", "exact")
    p = model(pmb, d, "--weight", weight)
    assert p.returncode == EXIT_PASS, p.stderr
    js = load(d / "model")[1]
    assert js["weight"] == weight
    fit = js["runs"][0]["fits"]["exact"]
    for k, want in zip("abc", (A, B, C)):
        assert close(fit[k]["value"], want, 3), (k, fit[k])
    assert synth.run_pmbench(pmb, "model", d, "--weight", "lad").returncode == EXIT_USAGE
