"""pmwork's step commands (FAULT, PAGEOUT, REMOVE, SWAPIN) behind `pmbench --sequence`
and the swapin co-metric: each answers with the oracle's new state.

Large-folio kinds (THP, mTHP) are left out: their steps move whole folios, which a
60% share does not consist of (test_pmwork_swapout.py covers their pageout).
"""
import pytest

from helpers import (EXIT_PASS, FILE_KINDS, KINDS, LARGE_FOLIO_KINDS, NONE, PAGE, PRESENT,
                     SWAP_KINDS, SWAPPED, check_pageout, counts, pct_of, positions,
                     region_swap_kb, retry_missed, smaps_swap_kb, start_exact, work)

PAGES = 1024
DIRTY, SWAPPED_PCT = 60, 50
K = pct_of(PAGES, DIRTY)            # dirtied pages
S = pct_of(K, SWAPPED_PCT)          # of those, paged out
PAGE_KB = PAGE // 1024


def after_pageout(kind, dirtied, out):
    """(none, present, swapped) once `out` of `dirtied` pages left memory."""
    if kind in FILE_KINDS:          # written back and dropped: none, not swapped
        return PAGES - dirtied + out, dirtied - out, 0
    return PAGES - dirtied, dirtied - out, out


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in LARGE_FOLIO_KINDS])
def test_sequence(bins, zram_swap, kind_dirs, kind):
    """fault, pageout, fault, remove, pageout, remove: the state after every step."""
    def sequence():
        w = work(bins / "pmwork", kind, PAGES, dirty=DIRTY, swapped=SWAPPED_PCT,
                 layout="contiguous", touch="read")
        try:
            w.start()
            _, st, vec = w.cmd("FAULT")
            assert counts(st) == (PAGES - K, K, 0)
            assert positions(vec, PRESENT) == list(range(K))
            _, st, vec = w.cmd("PAGEOUT")
            check_pageout(st, after_pageout(kind, K, S))
            if kind in FILE_KINDS:
                assert positions(vec, NONE) == list(range(S)) + list(range(K, PAGES))
                assert smaps_swap_kb(w.p.pid, w.ready["addr"]) == 0
            else:
                assert positions(vec, SWAPPED) == list(range(S))
                assert region_swap_kb(w, kind) == S * PAGE_KB
            _, st, _ = w.cmd("FAULT")
            assert counts(st) == (PAGES - K, K, 0)
            _, st, _ = w.cmd("REMOVE")
            assert counts(st) == (PAGES, 0, 0)
            _, st, _ = w.cmd("PAGEOUT")
            assert counts(st) == (PAGES, 0, 0)
            _, st, _ = w.cmd("REMOVE")
            assert counts(st) == (PAGES, 0, 0)
            assert region_swap_kb(w, kind) == 0
            assert w.exit() == EXIT_PASS
        finally:
            w.kill()
    retry_missed(sequence)


@pytest.mark.parametrize("kind", [k for k in SWAP_KINDS if k not in LARGE_FOLIO_KINDS])
def test_swapin(bins, zram_swap, kind_dirs, kind):
    w = start_exact(lambda: work(bins / "pmwork", kind, PAGES, dirty=DIRTY, swapout="pageout",
                                 swapped=SWAPPED_PCT))
    try:
        assert w.ready["swapped"] == S
        extra, st, _ = w.cmd("SWAPIN")
        assert extra["pages"] == S and extra["ns"] > 0, extra
        assert counts(st) == (PAGES - K, K, 0)
        assert region_swap_kb(w, kind) == 0
        extra, st, _ = w.cmd("SWAPIN")
        assert extra["pages"] == 0
        assert counts(st) == (PAGES - K, K, 0)
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()


@pytest.mark.parametrize("kind", ["sysv-shm", "file-disk"])
def test_asan_steps(asan_bins, zram_swap, kind_dirs, kind):
    """The step commands under ASan+UBSan, on a fork child's view."""
    half = PAGES // 2

    def steps():
        w = work(asan_bins / "pmwork", kind, PAGES, dirty=100, swapped=50, layout="strided",
                 view="fork-child")
        try:
            ready = w.start()
            assert counts(ready) == (0, PAGES, 0)
            _, st, vec = w.cmd("PAGEOUT")
            check_pageout(st, after_pageout(kind, PAGES, half))
            assert positions(vec, PRESENT) == list(range(1, PAGES, 2))
            _, st, _ = w.cmd("FAULT")
            assert counts(st) == (0, PAGES, 0)
            extra, st, _ = w.cmd("SWAPIN")
            assert extra["pages"] == 0 and counts(st) == (0, PAGES, 0)
            _, st, _ = w.cmd("REMOVE")
            assert counts(st) == (PAGES, 0, 0)
            assert w.exit() == EXIT_PASS, w.p.stderr.read().decode()
        finally:
            w.kill()
    retry_missed(steps)
