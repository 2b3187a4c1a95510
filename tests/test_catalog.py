"""The catalog (catalog/catalog.def) as the tests read it is the one the programs
were built with: pmbench catalog prints it, pmscan --list lists its methods and
pmwork --list its kinds, each with the catalog's description, and every row
has its plug-in file."""
import errno
import os

import pytest

from helpers import CATALOG, EXIT_PASS, ROOT, Kind, Method, parse_catalog, run


def from_pmbench(out):
    """pmbench catalog's lines, as helpers.parse_catalog gives catalog.def."""
    methods, kinds = [], []
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "method":
            assert len(f) == 7, line
            args = () if f[2] == "none" else tuple(f[2].split(","))
            traits = () if f[4] == "-" else tuple(f[4].split(","))
            methods.append((f[1], frozenset(args), f[3], frozenset(traits), int(f[5]), f[6]))
        else:
            assert f[0] == "kind" and len(f) == 5, line
            traits = () if f[3] == "-" else tuple(f[3].split(","))
            kinds.append((f[1], f[2], frozenset(traits), f[4]))
    return methods, kinds


def test_pmbench_prints_the_catalog(pmb):
    r = run(pmb, "catalog")
    assert r.returncode == EXIT_PASS, r.stderr
    methods, kinds = from_pmbench(r.stdout)
    assert methods == [(m.name, frozenset(m.args), m.compare, frozenset(m.traits), m.order,
                        m.desc) for m in CATALOG.methods]
    assert kinds == [(k.name, k.backing, frozenset(k.traits), k.desc) for k in CATALOG.kinds]


def test_catalog_is_sorted_and_unique():
    """Sorted by name within each table (methods, then co-metrics); plot orders distinct."""
    plain = [m.name for m in CATALOG.methods if "metric" not in m.traits]
    metrics = [m.name for m in CATALOG.methods if "metric" in m.traits]
    assert [m.name for m in CATALOG.methods] == plain + metrics
    assert plain == sorted(plain) and metrics == sorted(metrics)
    assert [k.name for k in CATALOG.kinds] == sorted(k.name for k in CATALOG.kinds)
    orders = [m.order for m in CATALOG.methods]
    assert len(set(orders)) == len(orders)
    for row in CATALOG.methods + CATALOG.kinds:
        assert row.name == row.id.replace("_", "-") and row.desc, row


def test_parser_reads_every_field():
    text = '''/* a comment with PMB_KIND(x, "y", PMB_BACKING_ANON, 0, "z") in it */
#define PMB_METHOD(id, name, args, compare, traits, order, desc)
PMB_METHOD(a_b, "a-b", PMB_ARG_BATCH | PMB_ARG_QD, PMB_CMP_CATEGORIES, PMB_M_READ, 3,
           "one (a, b)" " two \\"q\\"")
PMB_METRIC(m, "m", 9, "timed, elsewhere")
PMB_KIND(k, "k", PMB_BACKING_FILE, PMB_K_THP, "d")
'''
    cat = parse_catalog(text)
    assert cat.methods == [
        Method("a_b", "a-b", ("batch", "qd"), "categories", ("read",), 3, 'one (a, b) two "q"'),
        Method("m", "m", (), "none", ("metric",), 9, "timed, elsewhere")]
    assert cat.kinds == [Kind("k", "k", "file", ("thp",), "d")]
    with pytest.raises(AssertionError):
        parse_catalog('PMB_KIND(k, "k", PMB_CMP_RAW, 0, "d")')


def test_every_row_has_its_plugin_file():
    """bench/method_<id>.c for each pmscan method, workloads/kind_<id>.c for each kind,
    and no plug-in file without a row."""
    methods = {m.id for m in CATALOG.methods if "metric" not in m.traits}
    assert {p.stem[len("method_"):] for p in (ROOT / "bench").glob("method_*.c")} == methods
    kinds = {k.id for k in CATALOG.kinds}
    assert {p.stem[len("kind_"):] for p in (ROOT / "workloads").glob("kind_*.c")} == kinds


def list_rows(out):
    rows = [l.split("\t") for l in out.splitlines()]
    for f in rows:
        assert len(f) == 3 and (f[2] == "ok" or f[2].startswith("skip: ")), f
    return rows


def test_pmscan_lists_the_methods(bins):
    """Exactly the catalog's pmscan methods (not its co-metrics), in catalog order."""
    r = run(bins / "pmscan", "--list")
    assert r.returncode == EXIT_PASS, r.stderr
    assert [(f[0], f[1]) for f in list_rows(r.stdout)] == \
        [(m.name, m.desc) for m in CATALOG.methods if "metric" not in m.traits]


def test_pmwork_lists_the_kinds(bins, tmp_path):
    """Exactly the catalog's kinds, in catalog order; a directory that does not exist is
    a skip of the kind that needs it, with the reason."""
    missing = tmp_path / "missing"
    env = dict(os.environ, PMB_TMPFS=str(missing), PMB_DISKDIR=str(missing))
    r = run(bins / "pmwork", "--list", env=env)
    assert r.returncode == EXIT_PASS, r.stderr
    rows = list_rows(r.stdout)
    assert [(f[0], f[1]) for f in rows] == [(k.name, k.desc) for k in CATALOG.kinds]
    status = {f[0]: f[2] for f in rows}
    gone = f"{missing}: {os.strerror(errno.ENOENT)}"
    assert status["tmpfs"] == f"skip: no tmpfs mounted (set PMB_TMPFS): {gone}"
    assert status["file-disk"] == f"skip: no disk file system (set PMB_DISKDIR): {gone}"
    # these need nothing but the system calls every supported kernel has
    for kind in ("memfd", "private-anon", "shared-anon"):
        assert status[kind] == "ok", status
