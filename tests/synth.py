"""Synthetic results directories (docs/results.md, schema pagemap-bench/1).

write_run() writes meta.json, cases.tsv, samples.tsv and summary.tsv with
seeded lognormal samples, so that compare/gate/plot can be driven end to end
with distributions whose truth is known.  Usable as a module or a script:

    python3 tests/synth.py OUTDIR [--seed S] [--shift 1.1] [--release 6.1.0]
"""
import argparse
import json
import math
import random
import statistics
from pathlib import Path

from helpers import PMD_PAGES, SHMEM_KINDS

STATES = ("none", "present", "swapped")
CASE_COLS = (["case", "kind", "swapout", "pages", "dirty_pct", "swapped_pct", "layout", "seed",
              "verdict", "reason", "true_none", "true_present", "true_swapped"]
             + [f"t_{t}_r_{r}" for t in STATES for r in STATES]
             + ["swap_bad_type", "swap_bad_offset", "swap_dup", "swap_content_ok",
                "swap_content_bad", "swap_content_unchecked", "smaps_swap_kb",
                "oracle_swap_kb", "methods_agree", "series_total", "series_discarded"])
SAMPLE_COLS = ["case", "method", "batch", "qd", "series", "round", "warmup", "discarded",
               "entries", "reads", "ns", "pmd_pos"]
SUMMARY_COLS = ["case", "kind", "swapout", "pages", "dirty_pct", "swapped_pct", "method",
                "batch", "qd", "n", "median_ns_per_entry", "ci_lo_ns_per_entry",
                "ci_hi_ns_per_entry", "q1_ns_per_entry", "q3_ns_per_entry",
                "p5_ns_per_entry", "p95_ns_per_entry", "cv", "outliers",
                "ci_halfwidth_pct", "verdict"]

# (method, batch, qd) timed for every case, and a plausible cost in ns/entry.
DEFAULT_SERIES = [("dense", 0, 1), ("batched", 1, 1), ("batched", 8, 1), ("batched", 64, 1),
                  ("batched", 512, 1), ("sparse", 1, 1)]


def base_cost(method, batch):
    if method == "sparse":
        return 450.0
    if method == "dense":
        return 14.0
    return 15.0 + 300.0 / batch


def case_id(kind, swapout, pages, dirty, swapped):
    return f"{kind}-{swapout}-p{pages}-d{dirty}-s{swapped}"


def make_case(kind="memfd", swapout="pageout", pages=4096, dirty=100, swapped=50,
              report="correct", shift=1.0, series=None):
    """One case.  report: 'correct' or 'swapped-as-none' (a stock kernel on shmem)."""
    dirtied = pages * dirty // 100
    sw = dirtied * swapped // 100
    truth = {"none": pages - dirtied, "present": dirtied - sw, "swapped": sw}
    cm = {(t, r): (truth[t] if t == r else 0) for t in STATES for r in STATES}
    verdict, reason = "correct", ""
    if report == "swapped-as-none" and sw:
        cm[("swapped", "swapped")] = 0
        cm[("swapped", "none")] = sw
        verdict, reason = "incorrect", f"{sw} swapped pages reported as none"
    return {"kind": kind, "swapout": swapout, "pages": pages, "dirty": dirty,
            "swapped": swapped, "truth": truth, "cm": cm, "verdict": verdict,
            "reason": reason, "shift": shift, "series": series or DEFAULT_SERIES,
            "id": case_id(kind, swapout, pages, dirty, swapped)}


def default_cases(shift=1.0, shmem_report="correct", kinds=("memfd", "shared-anon",
                                                            "private-anon")):
    out = []
    for kind in kinds:
        rep = shmem_report if kind != "private-anon" else "correct"
        out.append(make_case(kind, dirty=100, swapped=50, report=rep, shift=shift))
        out.append(make_case(kind, swapout="none", dirty=50, swapped=0, shift=shift))
    return out


def _tsv(path, table, cols, rows):
    with open(path, "w") as f:
        f.write(f"# pagemap-bench {table} v1\n")
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")


def _case_row(c, seed):
    row = {"case": c["id"], "kind": c["kind"], "swapout": c["swapout"], "pages": c["pages"],
           "start_pmd_pos": c.get("start_pmd_pos", -1), "dirty_pct": c["dirty"],
           "swapped_pct": c["swapped"], "layout": "seq", "seed": seed,
           "verdict": c["verdict"], "reason": c["reason"],
           "true_none": c["truth"]["none"], "true_present": c["truth"]["present"],
           "true_swapped": c["truth"]["swapped"], "swap_bad_type": 0, "swap_bad_offset": 0,
           "swap_dup": 0, "swap_content_bad": 0,
           "smaps_swap_kb": c["truth"]["swapped"] * 4, "oracle_swap_kb": c["truth"]["swapped"] * 4,
           "methods_agree": "yes", "series_total": len(c["series"]), "series_discarded": 0}
    for (t, r), n in c["cm"].items():
        row[f"t_{t}_r_{r}"] = n
    row["swap_content_ok"] = c.get("content_ok", c["cm"][("swapped", "swapped")])
    row["swap_content_unchecked"] = c.get("content_unchecked", 0)
    return row


def _samples(c, rng, n, warmup, sigma):
    rows, values = [], {}
    for si, (method, batch, qd) in enumerate(c["series"]):
        b = batch or c["pages"]
        cost = base_cost(method, b) * c["shift"]
        vals = []
        for rnd in range(warmup + n):
            v = cost * math.exp(rng.gauss(0.0, sigma))
            entries = 1 if method == "sparse" else c["pages"]
            reads = 1 if method == "sparse" else max(1, c["pages"] // b)
            rows.append({"case": c["id"], "method": method, "batch": b, "qd": qd,
                         "series": si, "round": rnd, "warmup": int(rnd < warmup),
                         "discarded": 0, "entries": entries, "reads": reads,
                         "ns": max(1, round(v * entries)),
                         "pmd_pos": rng.randrange(512) if method == "sparse" else -1})
            if rnd >= warmup:
                vals.append(v)
        values[(method, b, qd)] = vals
    return rows, values


def _summary_row(c, key, vals):
    q = statistics.quantiles(vals, n=20) if len(vals) > 1 else [vals[0]] * 19
    med = statistics.median(vals)
    return {"case": c["id"], "kind": c["kind"], "swapout": c["swapout"], "pages": c["pages"],
            "dirty_pct": c["dirty"], "swapped_pct": c["swapped"], "method": key[0],
            "batch": key[1], "qd": key[2], "n": len(vals), "median_ns_per_entry": f"{med:.4f}",
            "ci_lo_ns_per_entry": f"{q[8]:.4f}", "ci_hi_ns_per_entry": f"{q[10]:.4f}",
            "q1_ns_per_entry": f"{q[4]:.4f}", "q3_ns_per_entry": f"{q[14]:.4f}",
            "p5_ns_per_entry": f"{q[0]:.4f}", "p95_ns_per_entry": f"{q[18]:.4f}",
            "cv": f"{statistics.pstdev(vals) / statistics.mean(vals):.4f}", "outliers": 0,
            "ci_halfwidth_pct": f"{100 * (q[10] - q[8]) / 2 / med:.3f}", "verdict": "ok"}


def write_run(path, cases=None, seed=1, n=20, warmup=3, sigma=0.03, run_id=None,
              release="6.1.0-stock", version="#1 SMP PREEMPT_DYNAMIC", status="complete",
              schema="pagemap-bench/1", config_hash="fnv:stock", sampler=None):
    """Write a run directory at path and return its Path.

    sampler(case, rng, n, warmup, sigma) -> (sample rows, {series key: values})
    replaces the default lognormal samples (see cost_sampler)."""
    path = Path(path)
    path.mkdir(parents=True)
    cases = cases if cases is not None else default_cases()
    rng = random.Random(seed)
    samples, summary = [], []
    for c in cases:
        rows, values = (sampler or _samples)(c, rng, n, warmup, sigma)
        samples += rows
        summary += [_summary_row(c, k, v) for k, v in values.items() if v]
    run_id = run_id or f"20261126T0300{seed % 100:02d}Z-{release}"
    meta = {
        "schema": schema, "run_id": run_id, "status": status,
        "started": "2026-11-26T03:00:00Z", "finished": "2026-11-26T03:10:00Z",
        "profile": "synthetic", "command_line": ["tests/synth.py"], "environment": "host",
        "kernel": {"release": release, "version": version, "cmdline": "console=ttyS0",
                   "config_fnv1a64": config_hash},
        "host": {"cpu_model": "synthetic", "ncpus": 2, "mem_total_kb": 4194304,
                 "page_size": 4096},
        "swap": {"kind": "zram", "device": "/dev/zram1", "size_bytes": 536870912,
                 "created": True},
        "cgroup": {"mode": "v2", "root": "/sys/fs/cgroup"},
        "thp": {"enabled": "never", "shmem_enabled": "never"},
        "build": {"compiler": "synthetic", "git_rev": "0000000"},
        "params": {"kinds": sorted({c["kind"] for c in cases}),
                   "swapout": sorted({c["swapout"] for c in cases}),
                   "pages": max((c["pages"] for c in cases), default=0),
                   "dirty_pct": sorted({c["dirty"] for c in cases}),
                   "swapped_pct": sorted({c["swapped"] for c in cases}),
                   "methods": sorted({s[0] for c in cases for s in c["series"]}),
                   "batches": sorted({s[1] for c in cases for s in c["series"]}),
                   "rounds": n, "warmup": warmup, "series": 1, "sparse_reads": n,
                   "seed": seed, "cpu": 1},
    }
    (path / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    case_cols = CASE_COLS + (["start_pmd_pos"] if any("start_pmd_pos" in c for c in cases)
                             else [])
    _tsv(path / "cases.tsv", "cases", case_cols, [_case_row(c, seed) for c in cases])
    _tsv(path / "samples.tsv", "samples", SAMPLE_COLS, samples)
    _tsv(path / "summary.tsv", "summary", SUMMARY_COLS, summary)
    return path


# ---- samples from the per-entry-kind cost model (docs/model.md, "The model") ----

COEFS = ("a", "b", "b_present", "b_swap", "b_hole", "r", "c")


def make_view_case(kind="memfd", view="self", **kw):
    """make_case() with a view (self, second-mapper, fork-child) in its id and row."""
    c = make_case(kind, **kw)
    c["view"] = view
    if view != "self":
        c["id"] += f"-v{view}"
    return c


def entry_mix(c):
    """Per entry walked inside the region: fractions of none, present and swap PTEs,
    of entries without a page table (a view that maps shared memory it never touched),
    and of none PTEs in shmem."""
    t, n = c["truth"], c["pages"]
    shmem = c["kind"] in SHMEM_KINDS
    if shmem and c.get("view", "self") != "self":
        return {"b_hole": 1.0}
    if shmem:
        none = (t["none"] + t["swapped"]) / n
        return {"b": none, "b_present": t["present"] / n, "c": none}
    return {"b": t["none"] / n, "b_present": t["present"] / n, "b_swap": t["swapped"] / n}


def split_walk(hyp, pos, n, batch):
    """(inside, outside): entries walked inside the n-entry region and past its end."""
    if hyp == "exact":
        return n, 0
    ins = out = 0
    for i in range(0, n, batch):
        length = min(batch, n - i)
        v = (pos + i) % PMD_PAGES
        w = -(-(v + length) // PMD_PAGES) * PMD_PAGES - v
        ins += min(w, n - i)
        out += w - min(w, n - i)
    return ins, out


def cost_sampler(coefs, hyp="pmd", n_sparse=None, starts=None):
    """A write_run sampler whose ns come from the per-entry-kind model:
    ns = a*reads + r*entries + sum(coef * entries walked of that kind), where
    entries walked past the region's end count as b_hole, times lognormal noise.
    coefs: a dict over COEFS (missing ones are 0).  Sparse reads pick a random page
    of the region, so their walk past the end is exact, not an expectation.
    starts: {series index: region start} to give samples different starts (a merged run)."""
    k = {name: float(coefs.get(name, 0.0)) for name in COEFS}

    def ns_of(case, reads, entries, ins, out):
        mix = entry_mix(case)
        walk = sum(k[name] * ins * f for name, f in mix.items())
        return k["a"] * reads + k["r"] * entries + walk + k["b_hole"] * out

    def sampler(case, rng, n, warmup, sigma):
        rows, values = [], {}
        pages = case["pages"]
        for si, (method, batch, qd) in enumerate(case["series"]):
            start = (starts or {}).get(si, max(case.get("start_pmd_pos", 0), 0))
            sparse = method == "sparse"
            bt = 1 if sparse else (batch or pages)
            vals = []
            for rnd in range(warmup + (n_sparse or n if sparse else n)):
                if sparse:
                    page = rng.randrange(pages)
                    pos, entries, reads = (start + page) % PMD_PAGES, 1, 1
                    if hyp == "exact":
                        ins, out = 1, 0
                    else:
                        w = PMD_PAGES - pos
                        ins = min(w, pages - page)
                        out = w - ins
                else:
                    pos, entries = -1, pages
                    reads = -(-entries // bt)
                    ins, out = split_walk(hyp, start, entries, bt)
                ns = ns_of(case, reads, entries, ins, out) * math.exp(rng.gauss(0.0, sigma))
                rows.append({"case": case["id"], "method": method, "batch": bt, "qd": qd,
                             "series": si, "round": rnd, "warmup": int(rnd < warmup),
                             "discarded": 0, "entries": entries, "reads": reads,
                             "ns": max(1, round(ns)), "pmd_pos": pos})
                if rnd >= warmup:
                    vals.append(ns / entries)
            values[(method, bt, qd)] = vals
        return rows, values
    return sampler


def add_view_column(path, cases):
    """Add cases.tsv's `view` column (write_run writes only the core columns)."""
    p = Path(path) / "cases.tsv"
    lines = p.read_text().splitlines()
    views = {c["id"]: c.get("view", "self") for c in cases}
    out = [lines[0], lines[1] + "\tview"]
    for line in lines[2:]:
        out.append(line + "\t" + views[line.split("\t")[0]])
    p.write_text("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shift", type=float, default=1.0)
    ap.add_argument("--release", default="6.1.0-stock")
    ap.add_argument("--shmem-report", default="correct", choices=["correct", "swapped-as-none"])
    ap.add_argument("--sweep", action="store_true", help="a batch sweep 1..1024")
    a = ap.parse_args()
    series = None
    if a.sweep:
        series = ([("dense", 0, 1), ("sparse", 1, 1)]
                  + [("batched", 1 << i, 1) for i in range(11)])
    cases = []
    for kind in ("memfd", "shared-anon", "private-anon"):
        rep = a.shmem_report if kind != "private-anon" else "correct"
        for pages in (1024, 4096):
            for sw in (0, 50, 100):
                cases.append(make_case(kind, swapout="pageout" if sw else "none", pages=pages,
                                       dirty=100 if sw else 50, swapped=sw, report=rep,
                                       shift=a.shift, series=series))
    write_run(a.out, cases, seed=a.seed, release=a.release,
              config_hash=f"fnv:{a.release}")


if __name__ == "__main__":
    main()
