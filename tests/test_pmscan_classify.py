"""pmscan --classify: one byte per page (none, present, swapped) as a method sees it,
and the userspace oracle across VMAs with different file offsets."""
import pytest

from helpers import METHODS, PAGE, SWAPPED, TARGET_KINDS, classify, method_of

SPECS = [f"{m}:9:2" if "qd" in method_of(m).args else f"{m}:5" if "batch" in method_of(m).args
         else m for m in METHODS]


@pytest.mark.parametrize("spec", SPECS)
def test_classify(root, bins, target, spec):
    t = target("memfd", 333, touch=[0, 5, 6, 7, 100, 332])
    assert classify(bins / "pmscan", t.args(), spec) == t.states()


@pytest.mark.parametrize("spec", SPECS)
def test_classify_private_swap(root, bins, zram_swap, target, spec):
    """Private memory: every method sees swapped pages as swapped."""
    touch = list(range(0, 300, 2))
    t = target("private-anon", 300, touch=touch, pageout=touch[::4])
    assert classify(bins / "pmscan", t.args(), spec) == t.states()


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_userspace_sees_swap_of_every_kind(root, any_bins, zram_swap, target, kind):
    """The oracle finds every paged-out page swapped, whatever pagemap says for shmem."""
    n, touch = 400, list(range(0, 400, 3))
    t = target(kind, n, touch=touch, pageout=touch[::2])
    got = classify(any_bins / "pmscan", t.args(), "userspace")
    assert got == t.states() and got.count(SWAPPED) == len(touch[::2])


@pytest.mark.parametrize("kind", ["shared-anon", "memfd"])
def test_userspace_split_vmas_and_offsets(root, bins, zram_swap, target, kind):
    """Three VMAs with file offsets 0, 100 and 200 pages; the range starts inside the first
    and ends inside the last."""
    n = 300
    touch = list(range(0, n, 2))
    t = target(kind, n, touch=touch, pageout=[i for i in touch if i % 6 == 0],
               protect=[(100, 200)])
    maps = open(f"/proc/{t.pid}/maps").read()
    vmas = [l for l in maps.splitlines() if t.addr <= int(l.split("-")[0], 16) < t.addr + n * PAGE]
    assert len(vmas) == 3, maps
    first, pages = 37, n - 37 - 11
    got = classify(bins / "pmscan", t.args(first, pages), "userspace")
    assert got == t.states(first, pages)
    assert got.count(SWAPPED) == len([i for i in range(first, first + pages) if i % 6 == 0])
