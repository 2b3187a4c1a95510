"""pmwork's swap-out modes for every catalog kind: MADV_PAGEOUT of an exact set of
pages (pageout), and a memory cgroup limit that makes the kernel swap (cgroup).
The oracle's counts are cross-checked with smaps Swap:, /proc/sysvipc/shm and
SEEK_DATA.  Swap comes only from conftest's zram_swap, which removes its device.
"""
import os
import time

import pytest

from helpers import (ANON_KINDS, EXIT_PASS, FILE_KINDS, FOLIO_PAGES, KINDS, LARGE_FOLIO_KINDS,
                     PAGE, PRESENT, QUICK_KINDS, SWAP_KINDS, SWAPPED, THP_KINDS, TIMEOUT, Work,
                     counts, data_pages, dirty_set, map_files_path, pct_of, positions,
                     region_swap_kb, smaps_swap_kb, smaps_vma, start_exact, swapped_set,
                     thp_mounts, work)

PAGES = 1024    # two 2 MiB blocks
LAYOUTS = ["contiguous", "strided", "random"]


def pageout_cases():
    for kind in KINDS:
        for swapped in (25, 50, 100):
            # a large-folio kind pages out whole folios only: 25% of two 2 MiB blocks is not
            if pct_of(PAGES, swapped) % FOLIO_PAGES.get(kind, 1) == 0:
                yield kind, swapped


@pytest.mark.parametrize("kind,swapped", list(pageout_cases()))
def test_pageout(bins, zram_swap, kind_dirs, kind, swapped):
    """Exactly the chosen pages leave memory: to swap, or (a disk file) written back."""
    dirty = 100 if kind in LARGE_FOLIO_KINDS else 60
    for layout in ("contiguous",) if kind in LARGE_FOLIO_KINDS else LAYOUTS:
        w = start_exact(lambda: work(bins / "pmwork", kind, PAGES, dirty=dirty,
                                     swapout="pageout", swapped=f"{swapped}%", layout=layout,
                                     seed=11))
        try:
            ready = w.ready
            ndirty = pct_of(PAGES, dirty)
            nout = pct_of(ndirty, swapped)
            assert ready["pageout_missed"] == 0 and ready["pageout_extra"] == 0, ready
            assert ready["contradictions"] == 0, ready
            assert 1 <= ready["pageout_passes"] <= 4, ready
            if kind in FILE_KINDS:
                # written back and dropped: none in truth, nothing in swap
                assert counts(ready) == (PAGES - ndirty + nout, ndirty - nout, 0), ready
                assert smaps_swap_kb(w.p.pid, ready["addr"]) == 0
            else:
                assert counts(ready) == (PAGES - ndirty, ndirty - nout, nout), ready
                assert region_swap_kb(w, kind) == nout * PAGE // 1024
            st, vec = w.state()
            assert counts(st) == counts(ready)
            kept, left = positions(vec, PRESENT), positions(vec, SWAPPED)
            assert len(kept) == ndirty - nout
            want_dirty = dirty_set(layout, PAGES, dirty)
            if want_dirty is not None:
                want_out = swapped_set(layout, want_dirty, swapped)
                assert kept == sorted(set(want_dirty) - set(want_out)), layout
                assert left == ([] if kind in FILE_KINDS else want_out), layout
            if kind not in ANON_KINDS + FILE_KINDS:
                # a swapped shmem page is still data of its file
                path = map_files_path(w.p.pid, ready["addr"], PAGES)
                assert data_pages(path, PAGES) == set(kept + left)
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


@pytest.mark.parametrize("kind", THP_KINDS)
def test_thp_whole_block_pageout(bins, zram_swap, kind):
    """A whole PMD-mapped block pages out; the other stays PMD-mapped."""
    w = start_exact(lambda: work(bins / "pmwork", kind, PAGES, dirty=100, swapout="pageout",
                                 swapped=50, layout="contiguous"))
    try:
        ready = w.ready
        assert ready["swapped"] == PAGES // 2 and ready["pageout_missed"] == 0
        assert ready["thp_pages"] == PAGES // 2, ready
        assert smaps_swap_kb(w.p.pid, ready["addr"]) == PAGES // 2 * PAGE // 1024
    finally:
        w.kill()
    w = work(bins / "pmwork", kind, PAGES, dirty=100)
    try:
        ready = w.start()
        assert ready["thp_pages"] == PAGES, ready
        assert smaps_vma(w.p.pid, ready["addr"])["ShmemPmdMapped"] == PAGES * PAGE // 1024
        assert thp_mounts() == []
    finally:
        w.kill()


def test_asan_pageout(asan_bins, zram_swap):
    for kind in QUICK_KINDS:
        w = start_exact(lambda: work(asan_bins / "pmwork", kind, PAGES, dirty=100,
                                     swapout="pageout", swapped=50, layout="strided"))
        try:
            ready = w.ready
            assert ready["swapped"] == PAGES // 2
            assert ready["pageout_missed"] == ready["pageout_extra"] == 0
            st, vec = w.state()
            assert st["swapped"] == PAGES // 2
            assert positions(vec, SWAPPED) == list(range(0, PAGES, 2))
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()


@pytest.mark.parametrize("kind", [k for k in SWAP_KINDS if k not in LARGE_FOLIO_KINDS])
def test_cgroup_reclaim(bins, zram_swap, memcg, kind_dirs, kind):
    """16 MiB written under a 4 MiB limit: the kernel swaps most of it."""
    pages = 4096
    procs = str(memcg / "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write(str(os.getpid()))

    w = Work(bins / "pmwork", "--kind", kind, "--pages", pages, "--swapout", "cgroup",
             preexec_fn=enter)
    try:
        ready = w.start()
        assert ready["contradictions"] == 0, ready
        assert ready["none"] == 0 and ready["present"] + ready["swapped"] == pages
        assert ready["swapped"] > pages // 2, ready
        assert ready["pageout_missed"] == ready["pageout_extra"] == 0
        st, vec, kb = settled(w, kind)
        # Only more can have gone since READY (pages still under writeback then).
        assert ready["swapped"] <= st["swapped"] == vec.count(SWAPPED), (ready, st)
        assert st["none"] == 0 and st["present"] + st["swapped"] == pages, st
        assert kb == st["swapped"] * PAGE // 1024
        if kind not in ANON_KINDS:
            path = map_files_path(w.p.pid, ready["addr"], pages)
            assert data_pages(path, pages) == set(range(pages))
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


def settled(w, kind):
    """(STATE, vector, smaps Swap: in kB) once two STATEs in a row agree and smaps agrees
    with them: swap-out under a memory limit may still be finishing after READY (pages
    under writeback are still present), for longer on a busy machine."""
    deadline = time.monotonic() + TIMEOUT
    before, _ = w.state()
    while True:
        kb = region_swap_kb(w, kind)
        st, vec = w.state()
        if counts(st) == counts(before) and kb == st["swapped"] * PAGE // 1024:
            return st, vec, kb
        assert time.monotonic() < deadline, f"no settled state within {TIMEOUT} s: {st}, {kb} kB"
        before = st
        time.sleep(0.1)
