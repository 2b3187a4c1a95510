"""pmbench compare on synthetic runs: verdicts, outputs, and refusals."""
import json

import pytest

import synth
from helpers import (EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_REGRESSION, EXIT_SKIP, EXIT_USAGE, read_tsv,
                     run_pmbench)


def small_cases(shift=1.0, report="correct"):
    return [synth.make_case("memfd", report=report, shift=shift),
            synth.make_case("private-anon", shift=shift)]


def compare(pmb, tmp_path, base, cand, *extra):
    out = tmp_path / "cmp"
    p = run_pmbench(pmb, "compare", base, cand, "--out", out, "--no-plots", *extra)
    return p, out


def rows(out):
    return read_tsv(out / "compare.tsv", "compare")


def test_zero_shift_is_no_change(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2, release="6.1.0-patched")
    p, out = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stderr
    assert "no change within noise" in p.stdout
    rs = rows(out)
    assert len(rs) == 2 * len(synth.DEFAULT_SERIES)
    assert {r["verdict"] for r in rs} == {"no-change"}
    for r in rs:
        assert float(r["ci_lo"]) <= float(r["ratio"]) <= float(r["ci_hi"])
        assert 0 <= float(r["p_mann_whitney"]) <= 1


@pytest.mark.parametrize("shift,verdict", [(1.10, "regression"), (0.90, "improvement")])
def test_shift_verdict(pmb, tmp_path, shift, verdict):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(shift), seed=2, release="6.1.0-patched")
    p, out = compare(pmb, tmp_path, a, b, "--threshold", "5%")
    assert p.returncode == EXIT_PASS, p.stderr
    rs = rows(out)
    assert all(r["verdict"] == verdict for r in rs), [r["verdict"] for r in rs]
    for r in rs:
        assert abs(float(r["ratio"]) - shift) < 0.05


def test_outputs_agree_and_report_is_plain(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(report="swapped-as-none"), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2, release="6.1.0-patched")
    p, out = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stderr
    j = json.loads((out / "compare.json").read_text())
    assert j["schema"] == "pagemap-bench-compare/1"
    assert len(j["rows"]) == len(rows(out))
    assert j["base"]["dir"].endswith("/a") and j["cand"]["dir"].endswith("/b")
    diff = [c for c in j["correctness"] if c["differs"]]
    assert [c["case"] for c in diff] == ["memfd-pageout-p4096-d100-s50"]
    want = ("memfd (memfd-pageout-p4096-d100-s50), 2048 swapped pages: reported as none on "
            "BASE, as swapped with valid, content-checked offsets on CAND.")
    assert want in diff[0]["text"]
    report = (out / "report.md").read_text()
    assert want in report and "## Timing" in report and "bootstrap 95% CI" in report
    assert want in p.stdout


def test_too_few_samples(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1, n=3)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2, n=20)
    p, out = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stderr
    assert {r["verdict"] for r in rows(out)} == {"too-few-samples"}
    assert "too few samples" in p.stdout


def test_same_build_warns_and_reports_floor(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2)
    p, out = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS
    assert "same kernel build" in p.stderr
    j = json.loads((out / "compare.json").read_text())
    assert j["same_build"] is True
    for r in j["rows"]:
        assert r["floor_pct"] == pytest.approx(100 * max(r["ci_hi"] - 1, 1 - r["ci_lo"]),
                                               abs=1e-3)


def test_never_overwrites(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2)
    compare(pmb, tmp_path, a, b)
    p, _ = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS
    assert (tmp_path / "cmp-2" / "compare.tsv").exists()
    p = run_pmbench(pmb, "compare", a, b, "--no-plots")
    assert p.returncode == EXIT_PASS
    assert list(tmp_path.glob("compare-*-vs-*/report.md"))


def test_different_schema_refused(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2, schema="pagemap-bench/2")
    p, _ = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_USAGE
    assert "different schema versions" in p.stderr


def test_no_common_cases_refused(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", [synth.make_case("memfd")], seed=1)
    b = synth.write_run(tmp_path / "b", [synth.make_case("private-anon")], seed=2)
    p, _ = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_USAGE
    assert "no cases in common" in p.stderr


def test_interrupted_cannot_run(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2, status="interrupted")
    p, _ = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_SKIP
    assert "interrupted" in p.stderr


@pytest.mark.parametrize("damage,needle", [
    (lambda d: (d / "cases.tsv").write_text("# pagemap-bench cases v1\ncase\tkind\nx\n"),
     "cases.tsv:2: no column 'swapout'"),
    (lambda d: (d / "cases.tsv").write_text(
        "\n".join((d / "cases.tsv").read_text().splitlines()[:2] + ["x\ty"]) + "\n"),
     "cases.tsv:3"),
    (lambda d: (d / "cases.tsv").write_text("garbage\n"), "schema line"),
    (lambda d: (d / "samples.tsv").unlink(), "samples.tsv"),
    (lambda d: (d / "meta.json").write_text("{not json"), "meta.json"),
    (lambda d: (d / "samples.tsv").write_text(
        (d / "samples.tsv").read_text().replace("\t-1\n", "\t-1\textra\n", 1)),
     "samples.tsv:3"),
])
def test_malformed_rejected(pmb, tmp_path, damage, needle):
    a = synth.write_run(tmp_path / "a", small_cases(), seed=1)
    b = synth.write_run(tmp_path / "b", small_cases(), seed=2)
    damage(b)
    p, out = compare(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_USAGE, (p.returncode, p.stderr)
    assert needle in p.stderr
    assert len(p.stderr.strip().splitlines()) <= 2
    assert not out.exists()


def test_usage_errors(pmb, tmp_path):
    assert run_pmbench(pmb, "compare").returncode == EXIT_USAGE
    assert run_pmbench(pmb, "compare", "a", "b", "--threshold", "lots").returncode \
        == EXIT_USAGE
    assert run_pmbench(pmb, "compare", "--help").returncode == EXIT_PASS
    p = run_pmbench(pmb, "compare", tmp_path / "nope", tmp_path / "nope2")
    assert p.returncode == EXIT_USAGE and "nope" in p.stderr


# ---- the host's own speed ----

PROBE = ("probe", 1, 1)


def probe_cases(shift, probe_shift):
    """One case with the host probe; its kernel series scaled by shift, its probe by probe_shift."""
    c = synth.make_case("private-anon", shift=shift, series=synth.DEFAULT_SERIES + [PROBE])

    def sampler(case, rng, n, warmup, sigma):
        rows, values = synth._samples(case, rng, n, warmup, sigma)
        k = probe_shift / case["shift"]
        for r in rows:
            if r["method"] == "probe":
                r["ns"] = max(1, round(r["ns"] * k))
        values[PROBE] = [v * k for v in values[PROBE]]
        return rows, values
    return [c], sampler


@pytest.mark.parametrize("shift,probe_shift,verdict,steady", [
    (1.10, 1.0, "regression", True),      # a steady host: a real 10% stands
    (0.90, 1.0, "improvement", True),
    (1.10, 1.10, "inconclusive", False),  # the host itself slowed by 10%: not the kernel's
    (2.0, 2.0, "inconclusive", False),
    (1.0, 1.10, "no-change", False),      # no claim of change, so nothing to withdraw
])
def test_a_change_stands_only_on_a_steady_host(pmb, tmp_path, shift, probe_shift, verdict, steady):
    ca, sa = probe_cases(1.0, 1.0)
    cb, sb = probe_cases(shift, probe_shift)
    a = synth.write_run(tmp_path / "a", ca, seed=1, sampler=sa)
    b = synth.write_run(tmp_path / "b", cb, seed=2, sampler=sb, release="6.1.0-patched")
    p, out = compare(pmb, tmp_path, a, b, "--threshold", "5%")
    assert p.returncode == EXIT_PASS, p.stderr
    js = {(r["method"], r["batch"]): r for r in json.loads((out / "compare.json").read_text())["rows"]}
    host = js[("probe", 1)]
    assert abs(host["ratio"] - probe_shift) < 0.05
    for key, r in js.items():
        if key[0] == "probe":
            assert r["host_steady"] is None
            continue
        assert r["verdict"] == verdict, (key, r)
        assert r["host_steady"] is steady
        assert (r["host_ratio"], r["host_ci_lo"], r["host_ci_hi"]) == \
            (host["ratio"], host["ci_lo"], host["ci_hi"])
        assert abs(r["ratio"] / shift - 1) < 0.05  # the ratio itself is untouched
    g = run_pmbench(pmb, "gate", a, b, "--out", tmp_path / "gate")
    lines = g.stdout.splitlines()
    # The gate never judges the probe as the kernel, and a slower host never fails it.
    assert not [l for l in lines if ":probe:" in l and "FAIL" in l]
    if shift > 1.05 and not steady:
        assert g.returncode == EXIT_INCONCLUSIVE, g.stdout + g.stderr
        assert any("the host itself changed speed" in l for l in lines), g.stdout
    elif shift > 1.05:
        assert g.returncode == EXIT_REGRESSION, g.stdout + g.stderr
