"""pmwork's views: whose pagemap is read.  A second mapper maps the same shared
memory and never touches it; a fork child inherits the mapping.  Either is a
stopped child of pmwork that dies with it."""
import pytest

from helpers import (ANON_KINDS, EXIT_PASS, KINDS, LARGE_FOLIO_KINDS, PAGE, PM_SWAP, gone, pagemap,
                     pct_of, proc_stat, smaps_vma, start_exact, sysv_segments, wait_until, work)

PAGES = 1024
DIRTY, SWAPPED_PCT = 60, 50


@pytest.mark.parametrize("view", ["second-mapper", "fork-child"])
@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ANON_KINDS + LARGE_FOLIO_KINDS])
def test_view_is_a_stopped_child(bins, kind_dirs, kind, view):
    w = work(bins / "pmwork", kind, PAGES, dirty=DIRTY, view=view)
    try:
        ready = w.start()
        vp = ready["view_pid"]
        assert vp != w.p.pid
        state, ppid = proc_stat(vp)[:2]
        assert state == "T" and int(ppid) == w.p.pid
        f = smaps_vma(vp, ready["view_addr"])
        assert f["Size"] == PAGES * PAGE // 1024
        if view == "second-mapper":
            assert ready["view_addr"] != ready["addr"]
            assert f["Rss"] == 0, f
        else:
            assert ready["view_addr"] == ready["addr"]
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
    wait_until(lambda: gone(vp), "the view exiting with pmwork")
    if kind == "sysv-shm":
        assert sysv_segments(w.p.pid) == []


def test_view_dies_with_pmwork(bins):
    w = work(bins / "pmwork", "memfd", 16, view="fork-child")
    try:
        vp = w.start()["view_pid"]
        assert not gone(vp)
    finally:
        w.kill()
    wait_until(lambda: gone(vp), "the view dying with a killed pmwork")


def test_fork_child_of_private_shows_same_swap(bins, zram_swap):
    w = start_exact(lambda: work(bins / "pmwork", "private-anon", PAGES, dirty=DIRTY,
                                 swapout="pageout", swapped=SWAPPED_PCT, view="fork-child"))
    try:
        ready = w.ready
        s = pct_of(pct_of(PAGES, DIRTY), SWAPPED_PCT)
        assert ready["swapped"] == s
        mine = pagemap(w.p.pid, ready["addr"], PAGES)
        child = pagemap(ready["view_pid"], ready["view_addr"], PAGES)
        swp = [i for i, e in enumerate(mine) if e & PM_SWAP]
        assert len(swp) == s
        assert [i for i, e in enumerate(child) if e & PM_SWAP] == swp
        # the same slots: the child's PTEs are copies of the parent's
        assert [child[i] for i in swp] == [mine[i] for i in swp]
        assert w.exit() == EXIT_PASS
    finally:
        w.kill()
