"""pmbench gate on synthetic runs: exit codes, policies, the noise floor, CI outputs."""
import json
import re
import xml.etree.ElementTree as ET

import pytest

import synth
from helpers import (EXIT_INCONCLUSIVE, EXIT_INCORRECT, EXIT_PASS, EXIT_REGRESSION, EXIT_SKIP,
                     EXIT_USAGE, ROOT, run_pmbench)


def cases(shift=1.0, report="correct", shmem_shift=None):
    s = shmem_shift if shmem_shift is not None else shift
    return [synth.make_case("memfd", report=report, shift=s),
            synth.make_case("memfd", swapout="none", dirty=50, swapped=0, shift=s),
            synth.make_case("shared-anon", report=report, shift=s),
            synth.make_case("private-anon", shift=shift)]


def gate(pmb, tmp_path, base, cand, *extra, name="gate"):
    out = tmp_path / name
    return run_pmbench(pmb, "gate", base, cand, "--out", out, *extra), out


def pair(tmp_path, base_kw=None, cand_kw=None, seeds=(1, 2), **kw):
    a = synth.write_run(tmp_path / f"a{seeds[0]}", seed=seeds[0], **(base_kw or {}), **kw)
    b = synth.write_run(tmp_path / f"b{seeds[1]}", seed=seeds[1], release="6.1.0-patched",
                        **(cand_kw or {}), **kw)
    return a, b


def test_zero_shift_passes(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases()})
    p, out = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stdout + p.stderr
    assert "VERDICT: pass" in p.stdout
    for f in ("report.md", "junit.xml", "gate.ktap", "kcidb.json", "lava.txt",
              "compare.tsv", "compare.json"):
        assert (out / f).stat().st_size > 0, f


def test_plus_ten_percent_is_a_regression(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(1.10)})
    p, out = gate(pmb, tmp_path, a, b, "--threshold", "5%")
    assert p.returncode == EXIT_REGRESSION, p.stdout + p.stderr
    assert "performance regression" in p.stdout
    # The default policy allows shmem swapped/holes up to 5x: only private-anon fails.
    failing = [l for l in p.stdout.splitlines() if l.strip().startswith("FAIL")]
    assert failing and all("private-anon" in l for l in failing)


def test_shmem_slowdown_within_the_patch_allowance(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(1.0, shmem_shift=3.6)})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stdout
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(1.0, shmem_shift=6.0)},
                seeds=(3, 4))
    p, _ = gate(pmb, tmp_path, a, b, name="g2")
    assert p.returncode == EXIT_REGRESSION, p.stdout


def test_minus_ten_percent_is_an_improvement(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(0.90)})
    p, out = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stdout
    assert "improvement" in (out / "report.md").read_text()


def test_aa_pairs_never_regress(pmb, tmp_path):
    """Twenty A/A pairs with few samples: each passes or is inconclusive (an interval
    that straddles the limit), never a regression."""
    codes = []
    for seed in range(20):
        a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases()},
                    seeds=(100 + seed, 200 + seed), n=10)
        p, _ = gate(pmb, tmp_path, a, b, "--seed", seed, name=f"g{seed}")
        assert p.returncode in (EXIT_PASS, EXIT_INCONCLUSIVE), (seed, p.stdout)
        assert "FAIL" not in p.stdout, (seed, p.stdout)
        codes.append(p.returncode)
    assert EXIT_PASS in codes


def test_swapped_reported_as_none_is_incorrect(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(report="swapped-as-none")})
    p, out = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_INCORRECT, p.stdout
    assert "incorrect kernel behaviour" in p.stdout
    assert "reported as swapped (0 as none" not in p.stdout
    assert "2048 are reported" not in p.stdout
    assert "of 2048 swapped pages 0 are reported as swapped (2048 as none" in p.stdout


def test_a_case_only_the_candidate_has_is_still_judged(pmb, tmp_path):
    extra = synth.make_case("memfd", dirty=100, swapped=50, pages=2048, report="swapped-as-none")
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases() + [extra]})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_INCORRECT, p.stdout
    assert "only in CAND, judged without BASE: 1 fail" in p.stdout
    assert "memfd-pageout-p2048" in p.stdout


def test_read_touched_pages_need_no_content_check(pmb, tmp_path):
    """Read-faulted pages carry no pattern: every slot is unchecked, and that is not a failure."""
    def unchecked(c):
        c = dict(c)
        if c["truth"]["swapped"]:
            c["content_unchecked"] = c["truth"]["swapped"]
            c["content_ok"] = 0
        return c
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": [unchecked(c) for c in cases()]})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_PASS, p.stdout


def test_incorrect_wins_over_regression(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()},
                {"cases": cases(1.2, report="swapped-as-none")})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_INCORRECT


def test_interrupted_cannot_run(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases(), "status": "interrupted"}, {"cases": cases()})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_SKIP
    assert "interrupted" in p.stderr


def test_no_timing_in_common_cannot_run(pmb, tmp_path):
    c1 = [synth.make_case("memfd", series=[("dense", 0, 1)])]
    c2 = [synth.make_case("memfd", series=[("sparse", 1, 1)])]
    a, b = pair(tmp_path, {"cases": c1}, {"cases": c2})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_SKIP
    assert "no timing series in common" in p.stdout


def test_schema_and_no_common_cases_are_usage_errors(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(), "schema": "pagemap-bench/9"})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_USAGE and "schema" in p.stderr
    a, b = pair(tmp_path, {"cases": [synth.make_case("memfd")]},
                {"cases": [synth.make_case("shared-anon")]}, seeds=(5, 6))
    p, _ = gate(pmb, tmp_path, a, b, name="g2")
    assert p.returncode == EXIT_USAGE and "no cases in common" in p.stderr


def test_default_policy_file_matches_the_binary(pmb):
    p = run_pmbench(pmb, "gate", "--print-default-policy")
    assert p.returncode == EXIT_PASS
    assert p.stdout == (ROOT / "docs" / "policy-default.txt").read_text()


def test_policy_file(pmb, tmp_path):
    strict = tmp_path / "strict.policy"
    strict.write_text("pagemap-bench-policy 1\nmatch * : max_slowdown=noise correctness=any\n")
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(1.0, shmem_shift=1.5)})
    p, _ = gate(pmb, tmp_path, a, b, "--policy", strict)
    assert p.returncode == EXIT_REGRESSION, p.stdout
    loose = tmp_path / "loose.policy"
    loose.write_text("pagemap-bench-policy 1\n# shmem may double\n"
                     "match group=shmem : max_slowdown=2x\nmatch * : max_slowdown=20%\n")
    p, _ = gate(pmb, tmp_path, a, b, "--policy", loose, name="g2")
    assert p.returncode == EXIT_PASS, p.stdout


@pytest.mark.parametrize("text,needle", [
    ("match * : max_slowdown=noise\n", "line 1: the first line must be"),
    ("pagemap-bench-policy 1\nmatch kind=memfd max_slowdown=2x\n", "line 2: expected ':'"),
    ("pagemap-bench-policy 1\n\nmatch * : max_slowdown=-3%\n", "line 3:"),
    ("pagemap-bench-policy 1\nmatch colour=red : max_slowdown=2x\n", "unknown selector"),
    ("pagemap-bench-policy 1\nmatch * : correctness=perfect\n", "correctness 'perfect'"),
    ("pagemap-bench-policy 2\n", "version '2'"),
    ("pagemap-bench-policy 1\n", "no 'match' rule"),
])
def test_bad_policy_is_a_usage_error(pmb, tmp_path, text, needle):
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases()})
    pol = tmp_path / "bad.policy"
    pol.write_text(text)
    p, out = gate(pmb, tmp_path, a, b, "--policy", pol)
    assert p.returncode == EXIT_USAGE, p.stdout
    assert needle in p.stderr and str(pol) in p.stderr
    assert not out.exists()


def test_noise_floor_widens_the_interval(pmb, tmp_path):
    """A +10% shift in quiet samples is a regression.  Judged against a noisy A/A pair
    (--noise-floor), each interval is widened by its method's A/A noise and straddles
    the limit: inconclusive, not a regression and not a pass.  A quiet A/A pair leaves
    the regression standing."""
    def aa(name, sigma):
        a1 = synth.write_run(tmp_path / f"{name}1", cases(), seed=11, n=6, sigma=sigma)
        a2 = synth.write_run(tmp_path / f"{name}2", cases(), seed=12, n=6, sigma=sigma)
        p = run_pmbench(pmb, "compare", a1, a2, "--out", tmp_path / name, "--no-plots")
        assert p.returncode == EXIT_PASS, p.stderr
        return tmp_path / name
    noisy, quiet = aa("noisy", 0.4), aa("quiet", 0.005)
    a, b = pair(tmp_path, {"cases": cases()}, {"cases": cases(1.10)})
    p, _ = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_REGRESSION, p.stdout
    p, out = gate(pmb, tmp_path, a, b, "--noise-floor", noisy, name="g-noisy")
    assert p.returncode == EXIT_INCONCLUSIVE, p.stdout
    widened = [l for l in p.stdout.splitlines() if l.strip().startswith("INCONCLUSIVE")]
    assert widened and all("widened by the A/A noise of" in l and "private-anon" in l
                           for l in widened), p.stdout
    assert "FAIL" not in p.stdout
    p, _ = gate(pmb, tmp_path, a, b, "--noise-floor", quiet, name="g-quiet")
    assert p.returncode == EXIT_REGRESSION, p.stdout


@pytest.fixture
def failing_gate(pmb, tmp_path):
    a, b = pair(tmp_path, {"cases": cases(), "n": 20},
                {"cases": cases(1.10, report="swapped-as-none")})
    p, out = gate(pmb, tmp_path, a, b)
    assert p.returncode == EXIT_INCORRECT
    ncases = len(cases())
    nseries = ncases * len(synth.DEFAULT_SERIES)
    return out, ncases, nseries


def test_junit_structure(failing_gate):
    out, ncases, nseries = failing_gate
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"correctness", "performance"}
    perf = suites["performance"].findall("testcase")
    corr = suites["correctness"].findall("testcase")
    assert len(perf) == nseries and len(corr) == ncases
    assert len({t.get("name") for t in perf}) == nseries
    fails = [t.find("failure") for t in perf if t.find("failure") is not None]
    assert fails and int(suites["performance"].get("failures")) == len(fails)
    for f in fails:
        assert re.search(r"ratio \d+\.\d+ \(95% CI \d+\.\d+-\d+\.\d+\)", f.get("message"))
    assert any(t.find("failure") is not None for t in corr)


def test_ktap_structure(failing_gate):
    out, ncases, nseries = failing_gate
    lines = (out / "gate.ktap").read_text().splitlines()
    assert lines[0] == "KTAP version 1" and lines[1] == "1..2"
    top = [l for l in lines if re.match(r"^(not )?ok \d+ ", l)]
    assert [l.split()[-1] for l in top] == ["correctness", "performance"]
    assert top[0].startswith("not ok 1")
    # Each subtest's plan matches its results, numbered 1..N.
    for name, n in (("correctness", ncases), ("performance", nseries)):
        i = lines.index(f"    # Subtest: {name}")
        assert lines[i - 1] == "    KTAP version 1" and lines[i + 1] == f"    1..{n}"
        res = []
        for l in lines[i + 2:]:
            m = re.match(r"^    (not ok|ok) (\d+) \S+( # SKIP .*)?$", l)
            if m:
                res.append(int(m.group(2)))
            elif not l.startswith("    #"):
                break
        assert res == list(range(1, n + 1))


def test_kcidb_shape(failing_gate):
    out, ncases, nseries = failing_gate
    k = json.loads((out / "kcidb.json").read_text())
    assert k["version"]["major"] == 5
    builds = {b["id"] for b in k["builds"]}
    assert k["checkouts"][0]["id"] == k["builds"][0]["checkout_id"]
    assert len(k["tests"]) == ncases + 2 * nseries
    ids = set()
    for t in k["tests"]:
        assert t["id"].startswith("pmbench:") and t["id"] not in ids
        ids.add(t["id"])
        assert t["origin"] == "pmbench" and t["build_id"] in builds
        assert re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", t["path"]), t["path"]
        assert t["status"] in {"PASS", "FAIL", "SKIP", "DONE"}
        if "number" in t:
            assert isinstance(t["number"]["value"], (int, float))
            assert isinstance(t["number"]["unit"], str)
    statuses = {t["status"] for t in k["tests"]}
    assert {"FAIL", "DONE"} <= statuses


def test_lava_lines(failing_gate):
    out, ncases, nseries = failing_gate
    lines = (out / "lava.txt").read_text().splitlines()
    assert len(lines) == ncases + nseries
    pat = re.compile(r"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=[A-Za-z0-9._-]+ "
                     r"RESULT=(pass|fail|skip)( MEASUREMENT=[0-9.]+ UNITS=[a-z]+)?>")
    for l in lines:
        assert pat.fullmatch(l), l
    assert any("RESULT=fail" in l for l in lines)
