"""pmbench plot: PNG and SVG files from a run and from a comparison directory."""
import shutil

import pytest

import synth
from helpers import EXIT_PASS, EXIT_SKIP, EXIT_USAGE, run_pmbench

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ("batch-sweep", "bars", "scaling", "sparse-cdf")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot")
    sweep = [("dense", 0, 1), ("sparse", 1, 1)] + [("batched", 1 << i, 1) for i in range(0, 11, 2)]
    def cases(shift):
        return [synth.make_case(kind, pages=pages, swapped=sw, shift=shift, series=sweep)
                for kind in ("memfd", "private-anon") for pages in (1024, 4096)
                for sw in (50, 100)]
    a = synth.write_run(d / "a", cases(1.0), seed=1, n=8)
    b = synth.write_run(d / "b", cases(1.3), seed=2, n=8, release="6.1.0-patched")
    return d, a, b


def check_plots(plots):
    for name in PLOTS:
        png, svg = plots / f"{name}.png", plots / f"{name}.svg"
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC, name
        assert len(data) > 10000, (name, len(data))
        text = svg.read_text()
        assert "<svg" in text and "</svg>" in text, name
    assert (plots / "sweep.dat").stat().st_size > 0


needs_gnuplot = pytest.mark.skipif(shutil.which("gnuplot") is None,
                                   reason="gnuplot is not installed")


@needs_gnuplot
def test_plot_run(pmb, runs):
    _, a, _ = runs
    p = run_pmbench(pmb, "plot", a, timeout=120)
    assert p.returncode == EXIT_PASS, p.stderr
    check_plots(a / "plots")
    assert "published 2021" in (a / "plots" / "ref.dat").read_text()


@needs_gnuplot
def test_plot_comparison(pmb, runs):
    d, a, b = runs
    p = run_pmbench(pmb, "compare", a, b, "--out", d / "cmp", timeout=120)
    assert p.returncode == EXIT_PASS, p.stderr
    check_plots(d / "cmp" / "plots")
    ratio = (d / "cmp" / "plots" / "ratio.dat").read_text()
    assert "memfd" in ratio and "1.3" in ratio
    # Re-rendering the same directory works.
    p = run_pmbench(pmb, "plot", d / "cmp", timeout=120)
    assert p.returncode == EXIT_PASS, p.stderr


def test_plot_without_gnuplot_skips(pmb, runs, tmp_path):
    _, a, _ = runs
    p = run_pmbench(pmb, "plot", a, env={"PATH": str(tmp_path)})
    assert p.returncode == EXIT_SKIP
    assert "gnuplot" in p.stderr


def test_plot_bad_dir(pmb, tmp_path):
    if shutil.which("gnuplot") is None:
        pytest.skip("gnuplot is not installed")
    p = run_pmbench(pmb, "plot", tmp_path / "missing")
    assert p.returncode == EXIT_USAGE
    assert run_pmbench(pmb, "plot").returncode == EXIT_USAGE
