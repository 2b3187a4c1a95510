"""Hostile and broken inputs to the offline readers (issue 12, "These did not").

Each test builds a minimal input for one defect the fuzzing campaign found,
and checks the fixed behaviour against both builds (`any_bins`: release,
then ASan+UBSan):
- the command ends with one error line on stderr and the documented exit
  code (64 bad input, 77 a run that is not complete; README "Exit codes");
- no crash: no signal, no sanitizer report;
- no hang: every command has a timeout, and a FIFO given as an input file
  must not block;
- nothing is written outside the command's output, and a failed command
  leaves no output behind (the workspace is unchanged, file by file);
- the CI files a gate writes stay well-formed whatever bytes a case's reason
  or the run's metadata carry.

The valid runs mutated here come from tests/synth.py.  No test asserts a
time: the machine is shared and noisy.
"""
import io
import json
import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import synth
from helpers import EXIT_INCORRECT, EXIT_PASS, EXIT_SKIP, EXIT_USAGE, ROOT, is_root

TIMEOUT = 20            # seconds: each command here reads a few kB
SLOW_TIMEOUT = 120      # the 40,000-series load (item 10): a bound for a hang, not a time
NOBODY = 65534

HAVE_GNUPLOT = shutil.which("gnuplot") is not None
need_gnuplot = pytest.mark.skipif(not HAVE_GNUPLOT, reason="gnuplot is not installed "
                                  "(pmbench plot exits 77 before reading anything)")

# Bytes a reason may carry through a TSV (no tab, CR, LF or NUL: those the
# reader refuses or splits on): C0 and C1 controls, escape sequences, bytes
# >= 0x80, invalid and overlong UTF-8, U+2028, XML metacharacters and CDATA's
# end, KTAP directives and forged test lines.
HOSTILE = (b"x\x01\x08\x0b\x0c\x1b[31m\x7f <testcase name=\"f\"/> & &amp; ' \" ]]> "
           b"\x80\xff\xfe \xc3\x28 \xc0\xaf \xed\xa0\x80 \xe2\x80\xa8ok 7 forged "
           b"\xc2\x85ok 8 forged caf\xc3\xa9 # SKIP not ok 9 forged")


# ---------------------------------------------------------------- helpers

def pmbench(bins, *args, cwd, timeout=TIMEOUT, user=None, env=None):
    """pmbench with bytes in and out (stderr may carry any byte of the input)."""
    env = dict(os.environ, PMB_PLOTS_DIR=str(ROOT / "plots"), **(env or {}))
    argv = [str(bins / "pmbench")] + [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd, env=env,
                          user=user)


def no_crash(r):
    err = r.stderr.decode(errors="replace")
    assert r.returncode >= 0, f"killed by signal {-r.returncode}:\n{err}"
    for word in ("AddressSanitizer", "LeakSanitizer", "runtime error", "Segmentation fault"):
        assert word not in err, err


def error_line(r):
    """The one error line on stderr (warnings before it are allowed)."""
    no_crash(r)
    err = r.stderr.decode(errors="replace")
    lines = [l for l in err.splitlines() if l.strip() and "warning: " not in l]
    assert len(lines) == 1, f"not one error line:\n{err}"
    return lines[0]


def tree(root):
    """Every path under root (links not followed) with its type and mode, and for files
    and links their size and mtime.  A directory's own mtime is left out: a command may
    create its output directory and remove it again when it fails."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, None, None) if stat.S_ISDIR(st.st_mode) \
                else (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def refused(bins, ws, args, code=EXIT_USAGE, words=(), timeout=TIMEOUT):
    """Run args in workspace ws; it must fail with code and one line containing
    every word, and leave ws and what is around it (the test's tmp_path) exactly as
    they were."""
    ws = Path(ws)
    before = tree(ws.parent)
    r = pmbench(bins, *args, cwd=ws, timeout=timeout)
    cmd = args[0]
    line = error_line(r)
    assert r.returncode == code, f"{cmd}: exit {r.returncode}, not {code}: {line}"
    for w in words:
        assert w in line, f"{cmd}: {w!r} not in {line!r}"
    after = tree(ws.parent)
    assert after == before, (f"{cmd} changed the workspace: added "
                             f"{sorted(set(after) - set(before))}, changed "
                             f"{sorted(k for k in before if after.get(k) != before[k])}")
    return line


def refused_by(bins, ws, a, b, readers, code=EXIT_USAGE, words=()):
    """refused() for each reader (READERS) of run A (and B); plot only with gnuplot."""
    for name in readers:
        if name != "plot" or HAVE_GNUPLOT:
            refused(bins, ws, READERS[name](a, b), code, words)


def small_cases(shift=1.0, report="correct"):
    """Two small cases: one with swapped shmem pages, one without swap."""
    series = [("dense", 0, 1), ("batched", 8, 1), ("sparse", 1, 1)]
    return [synth.make_case("memfd", pages=64, dirty=100, swapped=50, report=report,
                            shift=shift, series=series),
            synth.make_case("private-anon", swapout="none", pages=64, dirty=50, swapped=0,
                            shift=shift, series=series)]


def small_run(path, seed=1, shift=1.0, report="correct", **kw):
    return synth.write_run(path, small_cases(shift, report), seed=seed, n=8, warmup=1, **kw)


@pytest.fixture
def ws(tmp_path):
    """A workspace: every command runs in it, and nothing may be written outside it."""
    d = tmp_path / "ws"
    d.mkdir()
    return d


@pytest.fixture
def pair(ws):
    """(A, B): two complete runs of one kernel (they merge), A to be mutated."""
    return small_run(ws / "A", seed=1, run_id="A1"), small_run(ws / "B", seed=1, run_id="B1")


# Every reader of a run directory, on run A (and B where it takes two).
READERS = {
    "compare": lambda a, b: ["compare", a, b, "--out", "out", "--no-plots"],
    "gate": lambda a, b: ["gate", a, b, "--out", "out"],
    "merge": lambda a, b: ["merge", "--out", "out", a, b],
    "model": lambda a, b: ["model", a, "--out", "model-out"],
    "plot": lambda a, b: ["plot", a],
}
ALL_READERS = tuple(READERS)


def tsv_set(path, row, col, value):
    """Set column col of data row `row` (0 = the first) of a TSV to value (str or bytes).
    An optional column the file lacks is added first, with its default in every row."""
    lines = path.read_bytes().split(b"\n")
    if col.encode() not in lines[1].split(b"\t"):
        default = OPTIONAL_COLS[col].encode()
        lines = lines[:2] + [l + b"\t" + default if l else l for l in lines[2:]]
        lines[1] += b"\t" + col.encode()
    i = lines[1].split(b"\t").index(col.encode())
    cells = lines[2 + row].split(b"\t")
    cells[i] = value if isinstance(value, bytes) else str(value).encode()
    lines[2 + row] = b"\t".join(cells)
    path.write_bytes(b"\n".join(lines))


# Columns synth.py leaves out, with the default a reader assumes (docs/results.md).
OPTIONAL_COLS = {"start_pmd_pos": "-1", "view": "self", "touch": "write", "thp_pages": "-1",
                 "kernel_log": "0", "methods_wrong": "-"}


def tsv_cols(path, *cols):
    """Set several columns of row 0 at once: tsv_cols(p, ("a", 1), ("b", 2))."""
    for col, value in cols:
        tsv_set(path, 0, col, value)


def meta_update(run, **kv):
    p = run / "meta.json"
    m = json.loads(p.read_text())
    m.update(kv)
    p.write_text(json.dumps(m))
    return m


# ---------------------------------------------------------------- 1. merge crashed on short rows

def test_merge_short_sample_row_is_an_error_not_a_crash(any_bins, ws, pair):
    """Item 1: a samples.tsv row with too few fields (merge's sscanf crashed on it)."""
    a, b = pair
    p = a / "samples.tsv"
    lines = p.read_text().splitlines()
    lines[2] = "\t".join(lines[2].split("\t")[:3])
    p.write_text("\n".join(lines) + "\n")
    line = refused(any_bins, ws, ["merge", "--out", "out", a, b], words=("samples.tsv:3",))
    assert "fields" in line


def test_merge_nul_byte_is_an_error_not_a_crash(any_bins, ws, pair):
    """Item 1: a NUL byte inside a samples.tsv row."""
    a, b = pair
    tsv_set(a / "samples.tsv", 0, "method", b"de\x00nse")
    refused(any_bins, ws, ["merge", "--out", "out", a, b], words=("samples.tsv:3", "NUL"))


# ---------------------------------------------------------------- 2. merge validated nothing

def test_merge_refuses_series_it_cannot_renumber(any_bins, ws, pair):
    """Item 2: i*stride + series overflowed for a huge series number."""
    a, b = pair
    for series in ("10000", "4611686018427387904", "9223372036854775807",
                   "99999999999999999999"):
        tsv_set(b / "samples.tsv", 0, "series", series)
        refused(any_bins, ws, ["merge", "--out", "out", a, b], words=("samples.tsv:3", "series"))


@pytest.mark.parametrize("what", ["no-schema-line", "other-table", "field-count", "unknown-case",
                                  "series-with-space", "series-signed", "no-header"])
def test_merge_validates_what_it_copies(any_bins, ws, pair, what):
    """Item 2: schema lines, field counts, the sample's case, and `0 7` read as series 0."""
    a, b = pair
    p = b / "samples.tsv"
    lines = p.read_text().splitlines()
    if what == "no-schema-line":
        del lines[0]
    elif what == "other-table":
        lines[0] = "# pagemap-bench cases v1"
    elif what == "no-header":
        lines[1:] = []
    elif what == "field-count":
        lines[2] += "\t1"
    p.write_text("\n".join(lines) + "\n")
    if what == "unknown-case":
        tsv_set(p, 0, "case", "memfd-pageout-p64-d100-s49")
    elif what == "series-with-space":
        tsv_set(p, 0, "series", "0 7")
    elif what == "series-signed":
        tsv_set(p, 0, "series", "+0")
    line = refused(any_bins, ws, ["merge", "--out", "out", a, b])
    assert "samples.tsv" in line


def test_merge_out_with_trailing_slash_names_the_run(any_bins, ws, pair):
    """Item 2: `--out DIR/` wrote an empty run_id; the merged run must then compare."""
    a, b = pair
    r = pmbench(any_bins, "merge", "--out", "merged/", a, b, cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    meta = json.loads((ws / "merged" / "meta.json").read_text())
    assert meta["run_id"] == "merged" and meta["merged_from"] == ["A1", "B1"]
    r = pmbench(any_bins, "compare", "merged", "merged", "--out", "cmp", "--no-plots", cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    for out in ("/", ".", "merged/..", "a b"):
        refused(any_bins, ws, ["merge", "--out", out, a, b], words=("--out",))


@pytest.mark.parametrize("name", ["samples.tsv", "cases.tsv", "meta.json"])
def test_merge_read_error_is_not_end_of_file(any_bins, ws, pair, name):
    """Item 2: a read error (here, a directory) was taken as the end of the file: exit 0."""
    a, b = pair
    (b / name).unlink()
    (b / name).mkdir()
    refused(any_bins, ws, ["merge", "--out", "out", a, b], words=(name, "directory"))


# ---------------------------------------------------------------- 3. signed overflow in counts

BIG = "9223372036854775807"     # 2^63 - 1


@pytest.mark.parametrize("table,cols", [
    ("cases.tsv", [("true_swapped", BIG), ("t_swapped_r_swapped", BIG)]),
    ("cases.tsv", [("t_swapped_r_swapped", "9223372036854775808")]),
    ("cases.tsv", [("swap_content_ok", BIG)]),
    ("cases.tsv", [("swap_bad_type", BIG), ("swap_dup", BIG)]),
    ("cases.tsv", [("pages", BIG)]),
    ("samples.tsv", [("ns", BIG)]),
    ("samples.tsv", [("entries", BIG), ("reads", BIG)]),
], ids=["true-and-cell", "past-2^63", "content", "bad-and-dup", "pages", "ns", "entries"])
def test_counts_near_2_63_are_refused(any_bins, ws, pair, table, cols):
    """Item 3: counts near 2^63 overflowed sums in compare, gate and model (UBSan in the
    asan build aborts on a signed overflow).  Every value against gate and model; the
    true count with its cell, and ns, against every reader."""
    a, b = pair
    tsv_cols(a / table, *cols)
    many = cols[0][0] in ("true_swapped", "ns")
    refused_by(any_bins, ws, a, b, ALL_READERS if many else ("gate", "model"),
               words=(f"{table}:3:",))


@pytest.mark.parametrize("what", ["row-sum", "content-above-swapped", "count-above-pages",
                                  "entries-above-pages", "reads-above-bound"])
def test_counts_are_checked_against_each_other(any_bins, ws, pair, what):
    """Item 3: counts were never checked against each other or the page count."""
    a, b = pair
    cases, samples = a / "cases.tsv", a / "samples.tsv"
    if what == "row-sum":               # the confusion row of true swapped no longer sums
        tsv_set(cases, 0, "t_swapped_r_none", 5)
    elif what == "content-above-swapped":
        tsv_set(cases, 0, "swap_content_ok", 33)        # 32 pages reported swapped
    elif what == "count-above-pages":
        tsv_set(cases, 0, "swap_dup", 64 * 8 + 1)
    elif what == "entries-above-pages":
        tsv_set(samples, 0, "entries", 65)
    else:
        tsv_set(samples, 0, "reads", 64 * 4 + 65)
    refused(any_bins, ws, READERS["gate"](a, b), words=(".tsv:3:",))


# ---------------------------------------------------------------- 4. model looped per read

def huge_case_run(path, entries, reads, pages=1 << 32):
    """One case of `pages` pages, none of them touched, with batched samples."""
    series = [("dense", 0, 1), ("batched", 1, 1), ("batched", 512, 1)]
    c = synth.make_case("memfd", swapout="none", pages=pages, dirty=0, swapped=0, series=series)

    def sampler(case, rng, n, warmup, sigma):
        rows = []
        for si, (method, batch, qd) in enumerate(case["series"]):
            b = batch or pages
            for rnd in range(6):
                rows.append({"case": case["id"], "method": method, "batch": b, "qd": qd,
                             "series": si, "round": rnd, "warmup": 0, "discarded": 0,
                             "entries": entries, "reads": reads if b == 1 else -(-entries // b),
                             "ns": 10 ** 12 + rnd * 10 ** 9 + si, "pmd_pos": -1})
        return rows, {}
    return synth.write_run(path, [c], sampler=sampler)


def test_model_of_one_huge_sample_returns(any_bins, ws):
    """Item 4: model looped entries/batch times: 10^12 entries hung it."""
    run = huge_case_run(ws / "big", entries=1 << 32, reads=1 << 32)
    r = pmbench(any_bins, "model", run, "--out", "model-out", "--resamples", "10", cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    assert (ws / "model-out.tsv").is_file() and (ws / "model-out.json").is_file()
    # The input: entries = reads = 10^12 is more than the case's pages.
    run = huge_case_run(ws / "bigger", entries=10 ** 12, reads=10 ** 12, pages=1 << 20)
    refused(any_bins, ws, ["model", run, "--out", "model-out2"], words=("samples.tsv:3", "entries"))


# ---------------------------------------------------------------- 5. FIFOs and devices as inputs

@pytest.mark.parametrize("name", ["meta.json", "cases.tsv", "samples.tsv", "host-noise.json",
                                  "kernel-console.txt", "kernel-build.json"])
def test_fifo_as_input_file_does_not_block(any_bins, ws, pair, name):
    """Item 5: a FIFO in place of any input file hung every subcommand (every reader
    for meta.json and samples.tsv, gate for the others: they share one loader)."""
    a, b = pair
    if (a / name).exists():
        (a / name).unlink()
    os.mkfifo(a / name)
    refused_by(any_bins, ws, a, b, ALL_READERS if name in ("meta.json", "samples.tsv")
               else ("gate",), words=(name, "FIFO"))


@pytest.mark.parametrize("name", ["meta.json", "samples.tsv"])
def test_dev_zero_as_input_file_is_refused(any_bins, ws, pair, name):
    """Item 5: /dev/zero as an input made compare read 1 GiB and merge grow to 2 GB."""
    a, b = pair
    (a / name).unlink()
    (a / name).symlink_to("/dev/zero")
    refused_by(any_bins, ws, a, b, ALL_READERS if name == "samples.tsv" else ("gate",),
               words=(name, "character device"))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "missing"])
def test_gate_policy_that_is_no_file_is_refused(any_bins, ws, pair, kind):
    """Item 5: --policy FIFO hung the gate."""
    a, b = pair
    pol = ws / "policy"
    if kind == "fifo":
        os.mkfifo(pol)
    elif kind == "dev-zero":
        pol.symlink_to("/dev/zero")
    elif kind == "directory":
        pol.mkdir()
    refused(any_bins, ws, ["gate", a, b, "--policy", pol, "--out", "out"], words=("--policy",))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "missing", "no-dir",
                                  "not-compare"])
def test_gate_noise_floor_that_is_no_file_is_refused(any_bins, ws, pair, kind):
    """Items 5 and 12: --noise-floor DIR with a FIFO for DIR/compare.json hung the gate; a
    bad one must be blamed on the option."""
    a, b = pair
    floor = ws / "floor"
    floor.mkdir()
    cj = floor / "compare.json"
    if kind == "fifo":
        os.mkfifo(cj)
    elif kind == "dev-zero":
        cj.symlink_to("/dev/zero")
    elif kind == "directory":
        cj.mkdir()
    elif kind == "no-dir":
        floor.rmdir()
    elif kind == "not-compare":
        cj.write_text('{"schema": "something-else/1"}')
    refused(any_bins, ws, ["gate", a, b, "--noise-floor", floor, "--out", "out"],
            words=("--noise-floor",))


# ---------------------------------------------------------------- 6. plot followed links in plots/

@need_gnuplot
def test_plot_does_not_write_through_links_in_plots(any_bins, ws, pair, tmp_path):
    """Item 6: plots/sweep.dat linking elsewhere was truncated to 0 bytes by plot."""
    a, _ = pair
    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    victim = victim_dir / "precious.txt"
    victim.write_text("keep me\n")
    (a / "plots").mkdir()
    for name in ("sweep.dat", "bars.dat", "bars.png", "gnuplot.log"):
        (a / "plots" / name).symlink_to(victim)
    (a / "plots" / "bars.svg").symlink_to(victim_dir / "created-through-a-link.svg")
    before = tree(victim_dir)
    r = pmbench(any_bins, "plot", a, cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    assert victim.read_text() == "keep me\n"
    assert tree(victim_dir) == before
    for name in ("sweep.dat", "bars.dat", "bars.png", "bars.svg"):
        assert not (a / "plots" / name).is_symlink() and (a / "plots" / name).is_file(), name
    assert not list(a.glob(".plots-*")), "the temporary render directory was left behind"


@need_gnuplot
@pytest.mark.parametrize("kind", ["dir-link", "file", "dangling-link"])
def test_plot_refuses_a_plots_that_is_not_a_directory(any_bins, ws, pair, tmp_path, kind):
    """Item 6: DIR/plots that is a link to a directory elsewhere (or not a directory)."""
    a, _ = pair
    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    if kind == "dir-link":
        (a / "plots").symlink_to(victim_dir)
    elif kind == "file":
        (a / "plots").write_text("a file\n")
    else:
        (a / "plots").symlink_to(victim_dir / "not-yet")
    before = tree(victim_dir)
    refused(any_bins, ws, ["plot", a], words=("plots",))
    assert tree(victim_dir) == before


def test_compare_out_through_a_link_is_not_followed(any_bins, ws, pair, tmp_path):
    """Item 6: an output name that is a link to a directory elsewhere gets a directory of
    its own next to it; nothing is written through the link."""
    a, b = pair
    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    (ws / "out").symlink_to(victim_dir)
    r = pmbench(any_bins, "compare", a, b, "--out", "out", "--no-plots", cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    assert list(victim_dir.iterdir()) == []
    assert (ws / "out-2" / "compare.json").is_file()


# ---------------------------------------------------------------- 7. run_id steered output paths

@pytest.mark.parametrize("run_id", ["x/../../escaped", "../escaped", "..", ".", "", "/tmp",
                                    "-rf", "a b", "a\u0001b", "a\nb", "caf\u00e9", "x" * 201,
                                    7, None],
                         ids=["traversal", "dotdot-slash", "dotdot", "dot", "empty", "absolute",
                              "dash", "space", "control", "newline", "non-ascii", "too-long",
                              "number", "null"])
def test_run_id_cannot_steer_output_paths(any_bins, ws, pair, run_id):
    """Item 7: a run_id of x/../../somewhere made compare create a directory outside its
    own (the default output is <BASE's parent>/compare-<base id>-vs-<cand id>).  The
    traversal against every writer, the other ids against gate."""
    a, b = pair
    (ws / "runs").mkdir()
    a = a.rename(ws / "runs" / "A")
    meta_update(a, run_id=run_id)
    runs = [["gate", b, a]]
    if run_id == "x/../../escaped":
        runs += [["compare", b, a, "--no-plots"], ["merge", "--out", "out", b, a],
                 ["model", a]] + ([["plot", a]] if HAVE_GNUPLOT else [])
    for args in runs:
        refused(any_bins, ws, args, words=("run_id",))


@pytest.mark.parametrize("key", ["schema", "status", "environment"])
def test_strings_from_meta_json_stay_on_one_line(any_bins, ws, pair, key):
    """Item 7: what meta.json says is checked before use, and an error that quotes it
    stays one line (a JSON string may hold any control character)."""
    a, b = pair
    meta_update(a, **{key: "host\nok 1 forged\r\u001b[2J\u2028"})
    refused_by(any_bins, ws, a, b, ALL_READERS if key == "schema" else ("gate",), words=(key,))


# ---------------------------------------------------------------- 8. CI outputs forged or broken

KTAP_TEST_LINE = re.compile(r"(    )?(not ok|ok) \d+ [A-Za-z0-9._-]+( # SKIP .*)?")
LAVA_LINE = re.compile(r"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=[A-Za-z0-9._-]+ "
                       r"RESULT=(pass|fail|skip|unknown)( MEASUREMENT=[-0-9.]+ UNITS=[a-z_]+)?>")


def check_ci_outputs(d):
    """The CI files of gate directory d are well-formed, whatever the input carried."""
    # junit.xml: well-formed XML (and so valid UTF-8).
    root = ET.fromstring((d / "junit.xml").read_bytes())
    assert root.tag == "testsuites" and root.findall("testsuite/testcase")
    # kcidb.json: strict UTF-8 JSON; test paths are dotted names.
    k = json.loads((d / "kcidb.json").read_bytes().decode("utf-8"))
    assert k["tests"]
    for t in k["tests"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", t["path"]), t["path"]
    json.loads((d / "compare.json").read_bytes().decode("utf-8"))
    # gate.ktap: no CR, and no line break of any kind but LF, so that a universal-newline
    # reader (or Python's splitlines) sees the lines the writer wrote; every test line
    # is one the writer made: a case id, never text from the input.
    raw = (d / "gate.ktap").read_bytes()
    assert b"\r" not in raw
    text = raw.decode("utf-8")
    lines = text.split("\n")
    assert io.StringIO(text, newline=None).read().split("\n") == lines
    assert text.splitlines() == (lines[:-1] if text.endswith("\n") else lines), \
        "a line break other than LF"
    assert lines[0] == "KTAP version 1"
    for line in lines:
        if re.match(r"\s*(not )?ok\b", line):
            assert KTAP_TEST_LINE.fullmatch(line), f"forged or malformed test line {line!r}"
            assert "forged" not in line.split(" # ")[0], line
    # lava.txt: one signal per line, ASCII.
    for line in (d / "lava.txt").read_bytes().decode("ascii").splitlines():
        assert LAVA_LINE.fullmatch(line), line
    # reply.txt: printable ASCII, at most 72 columns.
    raw = (d / "reply.txt").read_bytes()
    assert all(0x20 <= c < 0x7f or c == 0x0a for c in raw), \
        sorted({c for c in raw if not (0x20 <= c < 0x7f or c == 0x0a)})
    for line in raw.decode("ascii").split("\n"):
        assert len(line) <= 72, line


@pytest.mark.parametrize("vector", ["reason", "meta", "console", "reproduce"])
def test_gate_ci_outputs_stay_well_formed(any_bins, ws, vector):
    """Item 8: a CR forged KTAP lines; bytes >= 0x80 broke junit.xml; invalid UTF-8 made
    kcidb.json fail with "Cannot allocate memory", exit 3."""
    base = small_run(ws / "A", seed=1, run_id="A1")
    cand = small_run(ws / "B", seed=2, run_id="B1", release="6.1.0-patched",
                     config_hash="fnv:patched", shift=1.3)
    extra = []
    if vector == "reason":
        tsv_cols(cand / "cases.tsv", ("verdict", "incorrect"), ("reason", HOSTILE))
    elif vector == "meta":
        evil = "x\r\nok 3 forged\r\u2028ok 4 forged\u0085<&>\"' ]]> \u0001\u001b[0m caf\u00e9"
        m = json.loads((cand / "meta.json").read_text())
        m["kernel"]["release"] = "6.1\rok 1 forged" + evil
        m["kernel"]["version"] = evil
        m["host_noise"] = {"busy": True, "why": evil}
        m["kernel_log"] = {"outside_cases": 2, "outside_lines": "WARNING: " + evil}
        (cand / "meta.json").write_text(json.dumps(m))
    elif vector == "console":
        (cand / "kernel-console.txt").write_bytes(b"WARNING: a\rok 5 forged\r\n" + HOSTILE +
                                                 b"\nBUG: \xe2\x80\xa9ok 6 forged\n")
    else:
        extra = ["--reproduce", b"make gate\r\nok 1 forged \xff\xc3\x28 caf\xc3\xa9 <&> " +
                 b"'quoted' " + b"w" * 150]
    r = pmbench(any_bins, "gate", base, cand, "--out", "out", *extra, cwd=ws)
    no_crash(r)
    assert sorted(os.listdir(ws)) == ["A", "B", "out"]      # nothing but its own directory
    if vector in ("reason", "meta", "console"):
        assert r.returncode == EXIT_INCORRECT, r.stderr
    else:
        assert r.returncode in (0, 1, 4), r.stderr
    check_ci_outputs(ws / "out")
    if vector == "reason":      # the reason is carried, escaped, not dropped
        fail = [f for f in ET.parse(ws / "out" / "junit.xml").iter("failure")]
        assert fail and "forged" in fail[0].get("message")


@pytest.mark.parametrize("value", [b"a\rok 1 forged", b"a\nok 1 forged", b"caf\xc3\xa9",
                                   b"\xff\xfe", b"a<b>&c", b"a b", b"../x", b".hidden", b"-x",
                                   b""],
                         ids=["cr", "lf", "utf8", "invalid-utf8", "xml", "space", "dotdot",
                              "dot", "dash", "empty"])
def test_hostile_names_are_refused(any_bins, ws, pair, value):
    """Item 8: case ids with CR, LF, bytes >= 0x80, XML metacharacters: refused with 64,
    no gate directory.  The other names that end up in CI test names and paths too
    (kind, swap-out, method), with a few of the values."""
    a, b = pair
    cols = ["case"] + (["kind", "swapout", "method"] if value in (b"\xff\xfe", b"a<b>&c", b"../x")
                       else [])
    for col in cols:
        table = a / ("samples.tsv" if col == "method" else "cases.tsv")
        saved = table.read_bytes()
        tsv_set(table, 0, col, value)
        refused(any_bins, ws, READERS["gate"](a, b))
        table.write_bytes(saved)


def test_reason_with_a_carriage_return_is_refused(any_bins, ws, pair):
    """Item 8: the CR of `x\\rok 1 forged` in a reason never reaches a CI file."""
    a, b = pair
    tsv_cols(a / "cases.tsv", ("verdict", "incorrect"), ("reason", b"x\rok 1 forged"))
    refused(any_bins, ws, READERS["gate"](a, b), words=("cases.tsv:3", "carriage return"))


# ---------------------------------------------------------------- 9. exit codes

@pytest.mark.parametrize("what", ["symlink-loop", "directory", "huge-table", "huge-meta",
                                  "long-path", "missing-dir", "file-as-dir", "unreadable-json",
                                  "duplicate-key"])
def test_bad_input_exits_64(any_bins, ws, pair, what):
    """Item 9: bad input exited 3 (harness error) where the docs say 64; in merge, every
    failure did.  Each against gate and merge, the first three against every reader."""
    a, b = pair
    if what == "symlink-loop":
        (a / "meta.json").unlink()
        (a / "meta.json").symlink_to("meta.json")
    elif what == "directory":
        (a / "cases.tsv").unlink()
        (a / "cases.tsv").mkdir()
    elif what == "huge-table":
        with open(a / "samples.tsv", "r+b") as f:
            f.truncate(1 << 30)         # sparse: 1 GiB, no blocks
    elif what == "huge-meta":
        with open(a / "meta.json", "ab") as f:
            f.write(b" " * (2 << 20))
    elif what == "long-path":
        a = ws / (("x" * 200 + "/") * 25) / "A"
    elif what == "missing-dir":
        a = ws / "nonexistent"
    elif what == "file-as-dir":
        a = a / "meta.json"
    elif what == "unreadable-json":
        (a / "meta.json").write_bytes(b'{"schema": "pagemap-bench/1", "run_id": "\xff"}')
    else:
        (a / "meta.json").write_text('{"schema": "pagemap-bench/1", "schema": "x"}')
    every = what in ("symlink-loop", "directory", "huge-table")
    refused_by(any_bins, ws, a, b, ALL_READERS if every else ("gate", "merge"))


OUT_OF_RANGE = {
    "cases.tsv": [("pages", "-1"), ("pages", " 64"), ("pages", "0x40"), ("pages", "64.0"),
                  ("pages", ""), ("dirty_pct", "1e308"), ("dirty_pct", "-1"),
                  ("dirty_pct", "nan"), ("swapped_pct", "100.5"), ("start_pmd_pos", "512"),
                  ("verdict", "fine"), ("view", "everyone")],
    "samples.tsv": [("batch", "-1"), ("batch", "0"), ("qd", "0"), ("warmup", "2"),
                    ("ns", "-5"), ("pmd_pos", "512"), ("round", "-1")],
}


@pytest.mark.parametrize("table", OUT_OF_RANGE)
def test_out_of_range_values_exit_64(any_bins, ws, pair, table):
    """Item 9: negative pages, dirty_pct 1e308, batch -1, qd 0 were accepted with exit 0."""
    a, b = pair
    saved = (a / table).read_bytes()
    for col, value in OUT_OF_RANGE[table]:
        tsv_set(a / table, 0, col, value)
        line = refused(any_bins, ws, READERS["gate"](a, b), words=(f"{table}:3",))
        assert col in line, line
        (a / table).write_bytes(saved)


@pytest.mark.parametrize("table", ["cases.tsv", "samples.tsv"])
def test_duplicate_column_exits_64(any_bins, ws, pair, table):
    """Item 9: duplicate column names were accepted (the first or the last one read)."""
    a, b = pair
    p = a / table
    lines = p.read_text().splitlines()
    lines[1] += "\tcase"
    lines[2:] = [l + "\tx" for l in lines[2:]]
    p.write_text("\n".join(lines) + "\n")
    refused(any_bins, ws, READERS["gate"](a, b), words=(f"{table}:2", "twice"))


@pytest.mark.parametrize("status", ["running", "interrupted", "failed"])
def test_incomplete_run_exits_77(any_bins, ws, pair, status):
    """Item 9: plot drew a run whose status is running and exited 0; every reader says 77
    (the other statuses against gate)."""
    a, b = pair
    meta_update(a, status=status)
    refused_by(any_bins, ws, a, b, ALL_READERS if status == "running" else ("gate",),
               code=EXIT_SKIP, words=(status,))


# ---------------------------------------------------------------- 10. quadratic loading

def many_series_run(path, release, ncases=100, per_case=400):
    """ncases cases x per_case batched series of one sample each (40,000 rows, ~1.6 MB)."""
    cases = [synth.make_case("memfd", swapout="none", pages=512, dirty=d, swapped=0,
                             series=[("batched", bt, 1) for bt in range(1, per_case + 1)])
             for d in range(ncases)]

    def sampler(case, rng, n, warmup, sigma):
        return [{"case": case["id"], "method": m, "batch": bt, "qd": qd, "series": 0,
                 "round": 0, "warmup": 0, "discarded": 0, "entries": 512,
                 "reads": -(-512 // bt), "ns": 1000 + bt, "pmd_pos": -1}
                for m, bt, qd in case["series"]], {}
    return synth.write_run(path, cases, sampler=sampler, release=release,
                           config_hash=f"fnv:{release}")


def test_many_single_sample_series_load(any_bins, ws):
    """Item 10: matching series was O(rows x series): 40,000 single-sample series took
    3.4 s of CPU, growing with the square of the rows.  The fix is structural (cases and
    series are looked up in lib/strmap.c's hash maps, in rundata.c and compare.c); this
    test asserts no time (the machine is shared), only that compare loads both runs and
    matches every series within a generous bound."""
    a = many_series_run(ws / "A", "6.1.0-stock")
    b = many_series_run(ws / "B", "6.1.0-patched")
    assert len((a / "samples.tsv").read_text().splitlines()) == 2 + 40000
    r = pmbench(any_bins, "compare", a, b, "--out", "cmp", "--no-plots", cwd=ws,
                timeout=SLOW_TIMEOUT)
    no_crash(r)
    assert r.returncode == EXIT_PASS, r.stderr
    rows = (ws / "cmp" / "compare.tsv").read_text().splitlines()
    assert len(rows) == 2 + 40000       # every series matched its twin
    assert "40000 series compared" in r.stdout.decode()


# ---------------------------------------------------------------- 11. number parsing

def as_nobody():
    """Run `pmbench run` as an unprivileged user: a value wrongly accepted then ends in
    'needs root' (77), never in a real run on this machine."""
    return NOBODY if is_root() else None


RUN_VALUES = {
    "--size": [" -4096", "-4096", "4096 ", "+4096", "0x1000", "18446744073709551616"],
    "--dirty": ["0x32", "1e1", " 5", "-5", "nan", "101"],
    "--rounds": [" -1", "0x10"],
    "--precision": ["1e-1"],
}


@pytest.mark.parametrize("opt", RUN_VALUES)
def test_run_number_parsing_is_strict(any_bins, opt):
    """Item 11: only the first character was checked for '-': --size " -4096" became
    nearly 2^64; pmb_parse_pct took 0x32 and 1e1.  Run as an unprivileged user, so
    that a value wrongly accepted ends in 'needs root', never in a run on this machine."""
    # Every value with leak checking off (a leak's exit code would hide 64), ...
    for value in RUN_VALUES[opt]:
        r = pmbench(any_bins, "run", opt, value, cwd="/", user=as_nobody(),
                    env={"ASAN_OPTIONS": "detect_leaks=0"})
        line = error_line(r)
        assert r.returncode == EXIT_USAGE, line
        assert opt in line and value in line, line
    # ... then the first one again with it on: a refused value leaks nothing.
    r = pmbench(any_bins, "run", opt, RUN_VALUES[opt][0], cwd="/", user=as_nobody())
    error_line(r)
    assert r.returncode == EXIT_USAGE


def test_offline_number_parsing_is_strict(any_bins, ws, pair):
    """Item 11: the same parsers behind compare's and gate's options."""
    a, b = pair
    for opt, value in [("--threshold", "0x5"), ("--threshold", "1e1"), ("--threshold", " 5"),
                       ("--threshold", "-5"), ("--seed", " -1"), ("--seed", "-1"),
                       ("--seed", "1e3")]:
        line = refused(any_bins, ws, ["gate", a, b, opt, value, "--out", "out"])
        assert opt in line, line
    line = refused(any_bins, ws, ["compare", a, b, "--threshold", "1e1", "--out", "out"])
    assert "--threshold" in line


# ---------------------------------------------------------------- 12. smaller ones

def test_compare_noise_floor_blames_the_option(any_bins, ws, pair):
    """Item 12: `compare A B --noise-floor X` blamed X instead of the option."""
    a, b = pair
    line = refused(any_bins, ws, ["compare", a, b, "--noise-floor", "X", "--out", "out"],
                   words=("--noise-floor",))
    assert "'X'" not in line and "X:" not in line


def test_print_default_policy_still_parses_later_options(any_bins, ws):
    """Item 12: gate --print-default-policy stopped parsing, so later bad options were ignored."""
    for later in (["--bogus"], ["--threshold", "0x5"], ["A", "B"], ["--out"]):
        r = pmbench(any_bins, "gate", "--print-default-policy", *later, cwd=ws)
        line = error_line(r)
        assert r.returncode == EXIT_USAGE, line
        assert r.stdout == b""
    r = pmbench(any_bins, "gate", "--print-default-policy", cwd=ws)
    no_crash(r)
    assert r.returncode == EXIT_PASS and b"pagemap-bench-policy 1" in r.stdout


def test_empty_directory_argument_is_refused(any_bins, ws, pair):
    """Item 12: an empty directory argument read /meta.json."""
    for args in (["compare", "", "B"], ["compare", "A", ""], ["gate", "", "B"],
                 ["merge", "--out", "out", "", "B"], ["merge", "--out", "", "A", "B"],
                 ["model", ""], ["model", "A", "--out", ""]) + ((["plot", ""],) if HAVE_GNUPLOT
                                                                 else ()):
        line = refused(any_bins, ws, args, words=("empty",))
        assert "/meta.json" not in line and "/compare.json" not in line, line


def test_run_results_empty_is_a_usage_error(any_bins):
    """Item 12: `run --results ""` read past the end of the string in mkdir_p; as an
    unprivileged user it must still fail with 64, before it needs root."""
    for args in (["--results", ""], ["--results="]):
        r = pmbench(any_bins, "run", *args, cwd="/", user=as_nobody())
        line = error_line(r)
        assert r.returncode == EXIT_USAGE and "--results" in line, line
