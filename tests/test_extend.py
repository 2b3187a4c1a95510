"""Adding a scan method is one file and one catalog row (docs/methods.md).

A copy of the tree gets bench/method_halves.c (the range in two preads) and
its PMB_METHOD row, nothing else; then every part that lists, times, judges,
compares, gates, plots and models methods must know it: pmscan, pmbench run,
the summary, compare and gate, the plots and the cost model.
"""
import json
import shutil
import subprocess

import pytest

from helpers import EXIT_INCONCLUSIVE, EXIT_PASS, ROOT, is_root

METHOD_C = """\
// SPDX-License-Identifier: GPL-2.0
/* halves: the range in two preads of N/2 entries (a test's toy method). */
#include "method.h"

static int halves_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	v->batch = (ctx->pages + 1) / 2;
	return 0;
}

const struct pms_method pms_method_halves = {
	.probe = pms_probe_pread,
	.init = halves_init,
	.pass = pms_pass_batched,
};
"""

ROW = ('PMB_METHOD(halves, "halves", PMB_ARG_NONE, PMB_CMP_RAW, PMB_M_READ, 8,\n'
       '\t   "the range in two preads of N/2 entries (toy)")\n')


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """The tree as it is (tracked and new files), plus the method: built."""
    dst = tmp_path_factory.mktemp("extend") / "tree"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if not src.is_file() or f.startswith(("results/", "build/", "tests/fuzz/corpus/")):
            continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / f)
    (dst / "bench" / "method_halves.c").write_text(METHOD_C)
    cat = dst / "catalog" / "catalog.def"
    text = cat.read_text()
    anchor = 'PMB_METHOD(scan_ioctl,'
    assert anchor in text
    cat.write_text(text.replace(anchor, ROW + anchor, 1))
    subprocess.run(["make", "-s", "-j2", "all"], cwd=dst, check=True, timeout=900,
                   capture_output=True)
    return dst


def test_pmscan_and_help_list_the_new_method(tree):
    out = subprocess.run([tree / "build/bin/pmscan", "--list"], capture_output=True, text=True,
                         check=True).stdout
    assert any(line.split("\t")[0] == "halves" for line in out.splitlines()), out
    man = subprocess.run([tree / "build/bin/pmbench", "man"], capture_output=True, text=True,
                         check=True).stdout
    assert "halves" in man


def test_a_run_times_compares_gates_plots_and_models_it(tree, tmp_path):
    if not is_root():
        pytest.skip("needs root: pmbench run sets up swap and reads swap offsets (CI runs it as root)")
    pmb = tree / "build/bin/pmbench"
    runs = []
    for k in range(2):
        res = tmp_path / f"r{k}"
        r = subprocess.run([pmb, "run", "--kinds", "memfd,private-anon", "--swapout", "pageout",
                            "--size", "2M", "--methods", "halves,dense,sparse", "--rounds", "6",
                            "--series", "2", "--precision", "0", "--results", res],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == EXIT_PASS, r.stderr
        runs.append(next(d for d in res.iterdir() if d.is_dir() and not d.is_symlink()))
    # Timed, judged on its own against the oracle, and summarized.
    samples = (runs[0] / "samples.tsv").read_text()
    assert "\thalves\t" in samples
    summary = (runs[0] / "summary.txt").read_text()
    assert "halves" in summary
    cases = (runs[0] / "cases.tsv").read_text()
    assert "halves" in cases  # memfd is incorrect on a stock kernel: every method is named
    # Compared and gated.
    g = subprocess.run([pmb, "gate", runs[0], runs[1], "--out", tmp_path / "gate"],
                       capture_output=True, text=True, timeout=300)
    assert g.returncode in (EXIT_PASS, EXIT_INCONCLUSIVE, 2), g.stdout + g.stderr
    rows = json.loads((tmp_path / "gate" / "compare.json").read_text())["rows"]
    assert any(r["method"] == "halves" for r in rows)
    assert "halves" in (tmp_path / "gate" / "reply.txt").read_text()
    # Plotted (the bars draw every method) and modelled (it reads pagemap with read()).
    if shutil.which("gnuplot"):
        subprocess.run([pmb, "plot", runs[0]], check=True, capture_output=True, timeout=300)
        svg = (runs[0] / "plots" / "bars.svg").read_text()
        assert "halves" in svg
    m = subprocess.run([pmb, "model", runs[0], "--out", tmp_path], capture_output=True, text=True,
                       timeout=300)
    assert m.returncode == EXIT_PASS, m.stderr
    assert "halves" in m.stdout + "".join(p.read_text() for p in tmp_path.glob("model*.tsv"))
