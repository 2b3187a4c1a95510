"""pmwork builds a region of every catalog kind in a known state, without swap-out:
the dirtied pages of each layout, the oracle's counts and vector, cross-checked
with SEEK_DATA on the backing file, and --touch read (present and clean).

Every child is killed in a finally block; files go to private directories
(conftest's kind_dirs) that must be empty again afterwards.
"""
import pytest

from helpers import (ANON_KINDS, EXIT_PASS, FILE_KINDS, FOLIO_PAGES, KINDS, LARGE_FOLIO_KINDS,
                     PAGE, PM_EXCLUSIVE, PM_PFN_MASK, PM_PRESENT, PRESENT, THP_KINDS, counts,
                     data_pages, dirty_set, is_root, map_files_path, pagemap, pct_of, positions,
                     smaps_vma, sysv_segments, thp_dirs, thp_mounts, work)

PAGES = 1024    # two 2 MiB blocks: a THP kind is all huge pages
LAYOUTS = ["contiguous", "strided", "random"]


def dirties(kind):
    # A large-folio kind (THP, mTHP) is dirtied whole (docs/workloads.md).
    return (100,) if kind in LARGE_FOLIO_KINDS else (0, 50, 100)


@pytest.mark.parametrize("kind", KINDS)
def test_construction(root, any_bins, kind_dirs, kind):
    """Every dirty share and layout: the oracle's counts, its vector, and the file's data."""
    before_thp = thp_dirs()
    for dirty in dirties(kind):
        for layout in LAYOUTS:
            w = work(any_bins / "pmwork", kind, PAGES, dirty=f"{dirty}%", layout=layout, seed=7)
            try:
                ready = w.start()
                k = pct_of(PAGES, dirty)
                assert ready["pages"] == PAGES and ready["page_size"] == PAGE
                assert counts(ready) == (PAGES - k, k, 0), (dirty, layout, ready)
                assert ready["contradictions"] == 0
                assert ready["view_pid"] == w.p.pid and ready["view_addr"] == ready["addr"]
                st, vec = w.state()
                assert counts(st) == counts(ready)
                present = positions(vec, PRESENT)
                assert len(present) == k
                want = dirty_set(layout, PAGES, dirty)
                if want is not None:
                    assert present == want, (dirty, layout)
                if kind not in ANON_KINDS + FILE_KINDS:
                    path = map_files_path(w.p.pid, ready["addr"], PAGES)
                    assert data_pages(path, PAGES) == set(present), (dirty, layout)
                if kind == "sysv-shm":
                    assert len(sysv_segments(w.p.pid)) == 1
                if kind in THP_KINDS:
                    assert ready["thp_pages"] == PAGES, ready
                    assert thp_mounts() == []
                elif kind in LARGE_FOLIO_KINDS:     # whole folios, as many as the kernel gave
                    assert 0 < ready["thp_pages"] <= PAGES, ready
                    assert ready["thp_pages"] % FOLIO_PAGES[kind] == 0, ready
                else:
                    assert ready["thp_pages"] == 0
                assert w.exit() == EXIT_PASS
            finally:
                w.kill()
            if kind == "sysv-shm":
                assert sysv_segments(w.p.pid) == []
    assert thp_mounts() == [] and thp_dirs() == before_thp


def test_same_seed_same_random_set(bins):
    sets = []
    for seed in (3, 3, 4):
        w = work(bins / "pmwork", "private-anon", PAGES, dirty=30, seed=seed)
        try:
            w.start()
            sets.append(positions(w.state()[1], PRESENT))
        finally:
            w.kill()
    assert sets[0] == sets[1] != sets[2]
    assert len(sets[0]) == pct_of(PAGES, 30)


@pytest.mark.parametrize("kind", KINDS)
def test_touch_read_present_and_clean(bins, kind_dirs, kind):
    """--touch read: the pages are present and nothing is dirty.  Private read faults map
    the zero page, or (where the kernel gives each its own page: pmwork says which) a
    private page each."""
    dirty = 100 if kind in LARGE_FOLIO_KINDS else 60
    k = pct_of(PAGES, dirty)
    w = work(bins / "pmwork", kind, PAGES, dirty=dirty, touch="read", layout="strided")
    try:
        ready = w.start()
        assert ready["touch"] == "read"
        assert counts(ready) == (PAGES - k, k, 0), ready
        assert ready["contradictions"] == 0
        assert ready["zero_page"] in (0, 1)
        f = smaps_vma(w.p.pid, ready["addr"])
        pm = pagemap(w.p.pid, ready["addr"], PAGES)
        present = [e for e in pm if e & PM_PRESENT]
        assert len(present) == k
        pfns = [e & PM_PFN_MASK for e in present]
        assert all(pfns) if is_root() else not any(pfns)     # PFNs are shown to root only
        if kind in ANON_KINDS and not ready["zero_page"]:
            assert f.get("Private_Dirty", 0) == k * PAGE // 1024, f
            assert all(e & PM_EXCLUSIVE for e in present)
            assert len(set(pfns)) == (k if is_root() else 1)
        else:
            assert f.get("Shared_Dirty", 0) + f.get("Private_Dirty", 0) == 0, f
            if kind in ANON_KINDS:          # the one zero page, mapped k times
                assert not any(e & PM_EXCLUSIVE for e in present)
                assert len(set(pfns)) == 1
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
