"""pmbench merge: one run from several runs of one kernel (the ABBA boots)."""
import json

import synth
from helpers import EXIT_PASS, EXIT_USAGE, read_tsv, run_pmbench


def rows(path):
    return read_tsv(path, path.stem)


def test_merge_keeps_every_sample_and_renumbers_series(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", seed=1, run_id="A1")
    b = synth.write_run(tmp_path / "b", seed=1, run_id="A2")
    out = tmp_path / "merged"
    r = run_pmbench(pmb, "merge", "--out", out, a, b)
    assert r.returncode == EXIT_PASS, r.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["merged_from"] == ["A1", "A2"] and meta["status"] == "complete"
    sa, sb, sm = rows(a / "samples.tsv"), rows(b / "samples.tsv"), rows(out / "samples.tsv")
    assert len(sm) == len(sa) + len(sb)
    # source k's series k * 10000 + series (pmbench merge --help)
    assert [s["series"] for s in sm[:len(sa)]] == [s["series"] for s in sa]
    assert [s["series"] for s in sm[len(sa):]] == [str(10000 + int(s["series"])) for s in sb]
    assert [c["case"] for c in rows(out / "cases.tsv")] == \
        [c["case"] for c in rows(a / "cases.tsv")]


def test_merge_keeps_the_worse_verdict(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", seed=1, run_id="A1")
    b = synth.write_run(tmp_path / "b", seed=1, run_id="A2")
    lines = (b / "cases.tsv").read_text().splitlines()
    head = lines[1].split("\t").index("verdict")
    first = lines[2].split("\t")
    first[head] = "incorrect"
    lines[2] = "\t".join(first)
    (b / "cases.tsv").write_text("\n".join(lines) + "\n")
    r = run_pmbench(pmb, "merge", "--out", tmp_path / "m", a, b)
    assert r.returncode == EXIT_PASS, r.stderr
    assert rows(tmp_path / "m" / "cases.tsv")[0]["verdict"] == "incorrect"
    assert "keeps the worse" in r.stderr


def test_merge_refuses_other_kernels_and_existing_output(pmb, tmp_path):
    a = synth.write_run(tmp_path / "a", seed=1, run_id="A1")
    b = synth.write_run(tmp_path / "b", seed=2, run_id="B1", release="6.1.0-patched")
    r = run_pmbench(pmb, "merge", "--out", tmp_path / "m", a, b)
    assert r.returncode == EXIT_USAGE and "another kernel" in r.stderr
    assert not (tmp_path / "m").exists()
    (tmp_path / "m").mkdir()
    r = run_pmbench(pmb, "merge", "--out", tmp_path / "m", a)
    assert r.returncode == EXIT_USAGE and "never overwritten" in r.stderr
    r = run_pmbench(pmb, "merge", a)
    assert r.returncode == EXIT_USAGE
