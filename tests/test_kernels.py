"""Kernel images (kernels/build.sh), the ports of the patch, test series, and the QEMU runner (kernels/vm.sh).

Tests that build a kernel or boot one run only when PMB_KERNEL_TESTS=1 (CI sets
it) or when the image they need is already in the cache (a first build takes
10 to 30 minutes on 2 cores).  The cache is $PMB_CACHE, else /var/cache/pagemap-bench as
root, else <repo>/.cache.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, EXIT_ERROR, EXIT_USAGE, EXIT_SKIP

KERNELS = ROOT / "kernels"
BUILD_SH = KERNELS / "build.sh"
VM_SH = KERNELS / "vm.sh"
PATCHES = KERNELS / "patches"
PATCH_NAME = "0001-pagemap-report-swap-location-for-shared-pages.patch"
PATCH = {v: PATCHES / v / PATCH_NAME for v in ("6.1", "6.12")}
CONFIG = KERNELS / "config"
FRAGMENT = CONFIG / "pagemap-bench.config"
OVERLAY = {v: CONFIG / f"{v}.config" for v in ("6.1", "6.12")}
STANDIN = ROOT / "tests" / "kernels" / "standin-pmbench"
SERIES = ROOT / "tests" / "kernels" / "series"
WARN_PATCH = ROOT / "tests" / "kernels" / "warn-6.12.patch"
TARBALL = {v: Path(f"/usr/src/linux-source-{v}.tar.xz") for v in ("6.1", "6.12")}
STANDIN_EXIT = 5
SERIES_SUBJECTS = [
    "pagemap: report swap location for shared pages on read()",
    "pagemap: report swapped shared pages to PAGEMAP_SCAN",
    "pagemap: TEST ONLY: slow down reads of private memory",
]


def need_tarball(v="6.1"):
    return pytest.mark.skipif(not TARBALL[v].exists(),
                              reason=f"{TARBALL[v]} missing (apt-get install linux-source-{v})")


def run(cmd, timeout=120, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def cache_dir():
    if os.environ.get("PMB_CACHE"):
        return Path(os.environ["PMB_CACHE"])
    return Path("/var/cache/pagemap-bench") if os.geteuid() == 0 else ROOT / ".cache"


def key_of(*extra):
    r = run([BUILD_SH, "--print-key", *extra])
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key), r.stdout
    return key


def image_of(*extra):
    return cache_dir() / "kernels" / key_of(*extra) / "bzImage"


def version_of(extra):
    extra = [str(e) for e in extra]
    return extra[extra.index("--kernel") + 1] if "--kernel" in extra else "6.1"


def kernel_tests_enabled(*extra):
    """Run when the image is cached, or build it when asked to: PMB_KERNEL_TESTS=1 builds the
    6.12 images (what CI needs on a fresh machine, within its time), PMB_KERNEL_TESTS=all the
    6.1 images too (a cold 6.1 build is another 10 to 30 minutes on 2 cores)."""
    v = version_of(extra)
    if not TARBALL[v].exists():
        pytest.skip(f"{TARBALL[v]} missing (apt-get install linux-source-{v})")
    want = os.environ.get("PMB_KERNEL_TESTS")
    if want == "all" or (want == "1" and v != "6.1"):
        return
    if not image_of(*extra).exists():
        pytest.skip(f"builds a {v} kernel: set PMB_KERNEL_TESTS={'all' if v == '6.1' else '1'} "
                    "(or build the image first with kernels/build.sh)")


def build(*extra, timeout=5400):
    r = run([BUILD_SH, *extra], timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"stdout must be the image path only: {r.stdout!r}"
    return Path(lines[0])


def built(*extra):
    """The image for these options, built if CI asks for it, else skip unless cached."""
    kernel_tests_enabled(*extra)
    return build(*extra)


@pytest.fixture(scope="module")
def stock_image():
    return built()


@pytest.fixture(scope="module")
def patched_image():
    return built("--patches", PATCHES)


@pytest.fixture(scope="module")
def stock612():
    return built("--kernel", "6.12")


@pytest.fixture(scope="module")
def patched612():
    return built("--kernel", "6.12", "--patches", PATCHES)


# ---------------------------------------------------------------- the patches


def function_body(c_text, name, ret="int"):
    """The text of a top-level C function, from its name to the closing brace."""
    m = re.search(r"^static " + ret + r" " + name + r"\(.*?^}$", c_text, re.M | re.S)
    assert m, name
    return m.group(0)


_task_mmu = {}


def task_mmu(v):
    """fs/proc/task_mmu.c of a tarball (only that file is extracted, once per session)."""
    if v not in _task_mmu:
        r = subprocess.run(["tar", "-xOf", str(TARBALL[v]), "--occurrence=1",
                            f"linux-source-{v}/fs/proc/task_mmu.c"], capture_output=True, timeout=300)
        assert r.returncode == 0 and r.stdout, r.stderr
        _task_mmu[v] = r.stdout
    return _task_mmu[v]


def one_file_tree(tmp_path, v):
    tree = tmp_path / "linux"
    (tree / "fs/proc").mkdir(parents=True)
    (tree / "fs/proc/task_mmu.c").write_bytes(task_mmu(v))
    return tree


def git_apply(tree, patch, check=False):
    """Apply a mail or diff as git am would (git apply, no fuzz), outside any repository."""
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tree.parent)}
    return run(["git", "apply", "--whitespace=nowarn", *(["--check"] if check else []), patch],
               cwd=tree, env=env)


@pytest.mark.parametrize("v", ["6.1", "6.12"])
def test_patch_is_a_git_format_patch(v):
    text = PATCH[v].read_text()
    assert text.startswith("From ")
    assert re.search(r"^From: .+<.+@.+>$", text, re.M)
    assert re.search(r"^Subject: \[PATCH\] pagemap: report swap location for shared pages$", text, re.M)
    files = re.findall(r"^diff --git a/(\S+) b/", text, re.M)
    assert files == ["fs/proc/task_mmu.c"]
    assert "pagemap_pte_hole() " in text.split("\n---\n")[0], "the message explains the limit"


def test_no_patch_left_at_the_top_of_kernels_patches():
    """Patches live per version (kernels/patches/X.Y/); build.sh picks the tree's."""
    assert not list(PATCHES.glob("*.patch"))
    assert sorted(p.name for p in PATCHES.iterdir()) == ["6.1", "6.12"]


@pytest.mark.parametrize("v", [pytest.param("6.1", marks=need_tarball("6.1")),
                               pytest.param("6.12", marks=need_tarball("6.12"))])
def test_patch_applies_cleanly(v, tmp_path):
    src = task_mmu(v)
    tree = one_file_tree(tmp_path, v)
    r = run(["patch", "-p1", "--forward", "--no-backup-if-mismatch", "-d", tree, "-i", PATCH[v]])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "offset" not in r.stdout and "fuzz" not in r.stdout, f"not clean: {r.stdout}"
    out = (tree / "fs/proc/task_mmu.c").read_text()
    assert "shmem_file(vma->vm_file)" in out
    assert "xa_is_value(" in out and "radix_to_swp_entry(" in out
    assert "linear_page_index(vma, addr)" in out
    # pagemap_pte_hole() is deliberately left alone (a limit the harness shows).
    assert function_body(out, "pagemap_pte_hole") == function_body(src.decode(), "pagemap_pte_hole")
    if v == "6.12":
        # Large folios swapped out whole: each page's own slot, from the entry's order.
        assert "xas_get_order(&xas)" in out
        assert "(index & ((1UL << order) - 1))" in out
        # PAGEMAP_SCAN: swapped shmem pages carry PAGE_IS_SWAPPED; the hole path is unchanged.
        cat = function_body(out, "pagemap_page_category", "unsigned long")
        assert "PAGE_IS_SWAPPED" in cat.split("if (pte_present(pte))")[0]
        assert function_body(out, "pagemap_scan_pte_hole") == function_body(src.decode(), "pagemap_scan_pte_hole")
        # Bystanders: read() of any VMA builds its entries as before; only shmem VMAs look further.
        assert function_body(out, "pte_to_pagemap_entry", "pagemap_entry_t") == \
            function_body(src.decode(), "pte_to_pagemap_entry", "pagemap_entry_t")
        # ... and the loop over the PTEs is the stock one: shmem VMAs get a second pass after it.
        loop = re.compile(r"\tfor \(; addr < end; pte\+\+, addr \+= PAGE_SIZE\) \{\n.*?\n\t\}\n", re.S)
        assert loop.findall(function_body(out, "pagemap_pmd_range")) == \
            loop.findall(function_body(src.decode(), "pagemap_pmd_range"))
        assert "if (unlikely(shmem_file(vma->vm_file)))\n\t\tpagemap_shmem_swap_fixup(pm, vma, start, first);" \
            in function_body(out, "pagemap_pmd_range")
    # Applying twice must fail: the patch is not already in the tree.
    r = run(["patch", "-p1", "--forward", "--dry-run", "-d", tree, "-i", PATCH[v]])
    assert r.returncode != 0


@need_tarball("6.12")
def test_series_splits_the_612_port(tmp_path):
    """Patches 1+2 of the test series give exactly the port; 3 adds only the delay."""
    port = one_file_tree(tmp_path / "port", "6.12")
    assert git_apply(port, PATCH["6.12"]).returncode == 0
    tree = one_file_tree(tmp_path / "series", "6.12")
    mails = sorted(SERIES.glob("000[1-9]-*.patch"))
    assert len(mails) == 3
    for m in mails[:2]:
        r = git_apply(tree, m)
        assert r.returncode == 0, r.stderr
    assert (tree / "fs/proc/task_mmu.c").read_text() == (port / "fs/proc/task_mmu.c").read_text()
    before = (tree / "fs/proc/task_mmu.c").read_text()
    r = git_apply(tree, mails[2])
    assert r.returncode == 0, r.stderr
    after = (tree / "fs/proc/task_mmu.c").read_text()
    added = [l for l in after.splitlines() if l not in before.splitlines()]
    assert any("#define PAGEMAP_TEST_DELAY_LOOPS" in l for l in added)
    assert re.search(r"static const struct mm_walk_ops pagemap_ops = \{\n\t\.test_walk\t= pagemap_test_walk,", after)
    test_walk = function_body(after, "pagemap_test_walk")
    assert "if (!shmem_file(vma->vm_file))\n\t\tpagemap_test_delay((end - start) >> PAGE_SHIFT);" in test_walk
    # Nothing that builds the entries changes, so shmem reads cost what they did.
    for fn, ret in (("pagemap_pmd_range", "int"), ("pte_to_pagemap_entry", "pagemap_entry_t"),
                    ("pagemap_pte_hole", "int")):
        assert function_body(after, fn, ret) == function_body(before, fn, ret), fn
    # The series' first patch alone already changes read(), not yet PAGEMAP_SCAN.
    first = one_file_tree(tmp_path / "first", "6.12")
    assert git_apply(first, mails[0]).returncode == 0
    text = (first / "fs/proc/task_mmu.c").read_text()
    assert "pagemap_shmem_swap_entry" not in function_body(text, "pagemap_page_category", "unsigned long")
    assert "pagemap_shmem_swap_fixup(pm, vma, start, first);" in function_body(text, "pagemap_pmd_range")


@need_tarball("6.12")
def test_warn_patch_applies_to_stock_and_port(tmp_path):
    stock = one_file_tree(tmp_path / "stock", "6.12")
    assert git_apply(stock, WARN_PATCH).returncode == 0
    assert "WARN_ON_ONCE(pte_none(pte) && shmem_file(vma->vm_file));" in \
        function_body((stock / "fs/proc/task_mmu.c").read_text(), "pte_to_pagemap_entry", "pagemap_entry_t")
    port = one_file_tree(tmp_path / "port", "6.12")
    assert git_apply(port, PATCH["6.12"]).returncode == 0
    assert git_apply(port, WARN_PATCH).returncode == 0


# ---------------------------------------------------------------- build.sh: options


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--jobs", "x"],
    ["--jobs", "0"],
    ["--jobs"],
    ["--patches", "/nonexistent"],
    ["--source", "/nonexistent.tar.xz"],
    ["--kernel", "5.10"],
    ["--kernel"],
    ["--upto", "1"],
    ["--series", SERIES, "--upto", "x"],
    ["--rev", "HEAD"],
    ["--tree", "/nonexistent"],
    ["--source", "/usr/src", "--tree", "/tmp"],
    ["--series", "/nonexistent"],
    ["--config", "/nonexistent"],
    ["--list-series", SERIES, "--upto", "1"],
])
def test_build_bad_options(args):
    r = run([BUILD_SH, *args])
    assert r.returncode == EXIT_USAGE, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("build.sh: ")


def test_build_help():
    r = run([BUILD_SH, "--help"])
    assert r.returncode == 0
    for opt in ("--kernel", "--source", "--tree", "--rev", "--patches", "--series", "--upto", "--list-series",
                "--config", "--cache", "--jobs", "--print-key"):
        assert opt in r.stdout, opt


def test_tree_that_is_no_repository(tmp_path):
    r = run([BUILD_SH, "--print-key", "--tree", tmp_path])
    assert r.returncode == EXIT_USAGE and "not a usable git repository" in r.stderr


# ---------------------------------------------------------------- build.sh: series


def test_list_series_directory():
    r = run([BUILD_SH, "--list-series", SERIES])
    assert r.returncode == 0, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert [row[0] for row in rows] == ["1", "2", "3"], "the cover letter has no diff and is skipped"
    assert [row[1] for row in rows] == SERIES_SUBJECTS
    assert all(re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", row[2]) for row in rows), rows
    assert [Path(row[3]).name for row in rows] == [p.name for p in sorted(SERIES.glob("000[1-9]-*.patch"))]


def test_list_series_mbox_and_single_patch(tmp_path):
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(b"".join(p.read_bytes() for p in sorted(SERIES.glob("*.patch"))))
    r = run([BUILD_SH, "--list-series", mbox])
    assert r.returncode == 0, r.stderr
    d = run([BUILD_SH, "--list-series", SERIES]).stdout
    strip = lambda text: [l.rsplit("\t", 1)[0] for l in text.splitlines()]
    assert strip(r.stdout) == strip(d), "an mbox lists like the directory it was made from"
    assert all(l.endswith("\t" + str(mbox)) for l in r.stdout.splitlines())
    # One format-patch file is an mbox of one; it has no Message-ID.
    r = run([BUILD_SH, "--list-series", WARN_PATCH])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("1\tpagemap: TEST ONLY: warn on the first shmem none PTE a read walks\t-\t"
                        f"{WARN_PATCH}\n")


@pytest.mark.parametrize("content", [b"", b"not a mail\n", b"From x\nSubject: cover\n\nno diff here\n"])
def test_list_series_bad_input(tmp_path, content):
    f = tmp_path / "bad.mbox"
    f.write_bytes(content)
    r = run([BUILD_SH, "--list-series", f])
    assert r.returncode == EXIT_USAGE, r.stderr
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("build.sh: --list-series ")


def test_list_series_directory_without_patches(tmp_path):
    r = run([BUILD_SH, "--list-series", tmp_path])
    assert r.returncode == EXIT_USAGE and "no *.patch" in r.stderr


# ---------------------------------------------------------------- build.sh: keys


@need_tarball("6.1")
def test_patched_key_differs_from_stock():
    stock, patched = key_of(), key_of("--patches", PATCHES / "6.1")
    assert stock != patched
    assert key_of() == stock, "the key must be stable"
    assert key_of("--patches", "none") == stock
    assert key_of("--kernel", "6.1") == stock, "6.1 is the default"


@need_tarball("6.1")
@need_tarball("6.12")
def test_patches_dir_picks_the_kernels_version():
    """--patches kernels/patches means kernels/patches/X.Y for a kernel X.Y."""
    assert key_of("--patches", PATCHES) == key_of("--patches", PATCHES / "6.1")
    assert key_of("--kernel", "6.12", "--patches", PATCHES) == key_of("--kernel", "6.12", "--patches", PATCHES / "6.12")
    assert key_of("--kernel", "6.12") != key_of()


@need_tarball("6.1")
def test_key_covers_fragment_and_patch_content(tmp_path):
    pdir = tmp_path / "patches"
    pdir.mkdir()
    shutil.copy(PATCH["6.1"], pdir / PATCH_NAME)
    k1 = key_of("--patches", pdir)
    assert k1 == key_of("--patches", PATCHES / "6.1"), "key depends on content, not on the patch dir's path"
    with open(pdir / PATCH_NAME, "a") as f:
        f.write("\n")
    assert key_of("--patches", pdir) != k1
    cdir = tmp_path / "config"
    shutil.copytree(CONFIG, cdir)
    assert key_of("--config", cdir) == key_of()
    for name in ("pagemap-bench.config", "6.1.config"):
        c = tmp_path / f"config-{name}"
        shutil.copytree(CONFIG, c)
        with open(c / name, "a") as f:
            f.write("# a comment is a change too\n")
        assert key_of("--config", c) != key_of(), name
    # The 6.12 overlay is not part of a 6.1 image.
    c = tmp_path / "config-612"
    shutil.copytree(CONFIG, c)
    with open(c / "6.12.config", "a") as f:
        f.write("CONFIG_SOMETHING=y\n")
    assert key_of("--config", c) == key_of()


@need_tarball("6.12")
def test_series_keys(tmp_path):
    base = key_of("--kernel", "6.12")
    keys = [key_of("--kernel", "6.12", "--series", SERIES, "--upto", str(k)) for k in range(4)]
    assert keys[0] == base, "--upto 0 is the tree itself"
    assert len(set(keys)) == 4
    assert key_of("--kernel", "6.12", "--series", SERIES) == keys[3]
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(b"".join(p.read_bytes() for p in sorted(SERIES.glob("*.patch"))))
    assert key_of("--kernel", "6.12", "--series", mbox, "--upto", "2") == keys[2], "an mbox keys like its directory"
    # The key follows what is applied: a reworded message keeps it, a changed diff does not.
    copy = tmp_path / "series"
    shutil.copytree(SERIES, copy)
    p3 = next(copy.glob("0003-*.patch"))
    p3.write_text(p3.read_text().replace("Not for any real kernel.", "Never for a real kernel."))
    assert key_of("--kernel", "6.12", "--series", copy) == keys[3]
    p3.write_text(p3.read_text().replace("#define PAGEMAP_TEST_DELAY_LOOPS", "#define  PAGEMAP_TEST_DELAY_LOOPS"))
    assert key_of("--kernel", "6.12", "--series", copy) != keys[3]
    assert key_of("--kernel", "6.12", "--series", copy, "--upto", "2") == keys[2]
    # --patches first, then the series: both are in the key.
    both = key_of("--kernel", "6.12", "--patches", PATCHES, "--series", WARN_PATCH)
    assert both not in keys and both != key_of("--kernel", "6.12", "--patches", PATCHES)
    r = run([BUILD_SH, "--print-key", "--kernel", "6.12", "--series", SERIES, "--upto", "4"])
    assert r.returncode == EXIT_USAGE and "has 3 patches" in r.stderr


def make_fake_tree(path, patchlevel="12"):
    """A git repository with only a kernel-like top-level Makefile, two commits."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_AUTHOR_DATE": "2021-08-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2021-08-01T00:00:00Z"}
    path.mkdir()
    git = lambda *a: subprocess.run(["git", "-C", str(path), *a], check=True, capture_output=True, env=env)
    git("init", "-q")
    (path / "Makefile").write_text(f"VERSION = 6\nPATCHLEVEL = {patchlevel}\nSUBLEVEL = 0\nEXTRAVERSION = -rc1\n")
    git("add", "Makefile")
    git("commit", "-qm", "one")
    git("tag", "v1")
    (path / "README").write_text("two\n")
    git("add", "README")
    git("commit", "-qm", "two")
    return git


def test_tree_key_is_the_commit_not_the_checkout(tmp_path):
    make_fake_tree(tmp_path / "a")
    k1 = key_of("--tree", tmp_path / "a", "--rev", "v1")
    assert k1 == key_of("--tree", tmp_path / "a", "--rev", "HEAD~1"), "two names of one commit"
    head = key_of("--tree", tmp_path / "a")
    assert head == key_of("--tree", tmp_path / "a", "--rev", "HEAD") and head != k1
    subprocess.run(["git", "clone", "-q", str(tmp_path / "a"), str(tmp_path / "b")], check=True)
    assert key_of("--tree", tmp_path / "b", "--rev", "v1") == k1, "the same commit in another clone"
    # Uncommitted changes are not part of a revision.
    (tmp_path / "a" / "README").write_text("dirty\n")
    assert key_of("--tree", tmp_path / "a") == head
    r = run([BUILD_SH, "--print-key", "--tree", tmp_path / "a", "--rev", "nope"])
    assert r.returncode == EXIT_USAGE and "not a commit" in r.stderr
    r = run([BUILD_SH, "--print-key", "--tree", tmp_path / "a", "--kernel", "6.1"])
    assert r.returncode == EXIT_USAGE and "6.12.0-rc1" in r.stderr


def test_mainline_tree_takes_the_612_overlay_and_patches(tmp_path):
    """A kernel newer than every overlay (mainline) takes the newest one not above it."""
    make_fake_tree(tmp_path / "t", patchlevel="19")
    c = tmp_path / "config"
    shutil.copytree(CONFIG, c)
    k = key_of("--tree", tmp_path / "t", "--config", c)
    with open(c / "6.12.config", "a") as f:
        f.write("# changed\n")
    assert key_of("--tree", tmp_path / "t", "--config", c) != k
    r = run([BUILD_SH, "--print-key", "--tree", tmp_path / "t", "--patches", PATCHES])
    assert r.returncode == 0 and "using those for 6.12" in r.stderr
    # Older than every overlay: refused.
    make_fake_tree(tmp_path / "old", patchlevel="0")
    r = run([BUILD_SH, "--print-key", "--tree", tmp_path / "old"])
    assert r.returncode == EXIT_USAGE and "no config overlay" in r.stderr


def test_config_fragments_are_well_formed():
    """Every line is a comment, blank, CONFIG_X=v or '# CONFIG_X is not set'; no option twice."""
    seen = {}
    for f in [FRAGMENT, *OVERLAY.values()]:
        for line in f.read_text().splitlines():
            if not line or (line.startswith("#") and not re.match(r"# CONFIG_", line)):
                continue
            m = re.fullmatch(r"(CONFIG_\w+)=\S+|# (CONFIG_\w+) is not set", line)
            assert m, f"{f.name}: {line!r}"
            sym = m.group(1) or m.group(2)
            where = "common" if f == FRAGMENT else f.name
            assert (sym, where) not in seen, f"{sym} twice in {where}"
            seen[(sym, where)] = line
    common = {s for s, w in seen if w == "common"}
    for v in OVERLAY:
        assert not common & {s for s, w in seen if w == f"{v}.config"}, "an overlay repeats a common option"
    assert ("CONFIG_THP_SWAP", "6.12.config") in seen and ("CONFIG_ZRAM_BACKEND_LZO", "6.12.config") in seen
    assert seen[("CONFIG_SLUB_TINY", "6.12.config")] == "# CONFIG_SLUB_TINY is not set"
    assert ("CONFIG_CRYPTO_LZO", "6.1.config") in seen and ("CONFIG_SLUB", "6.1.config") in seen


# ---------------------------------------------------------------- build.sh: builds


def config_lines(v):
    return [l for f in (FRAGMENT, OVERLAY[v]) for l in f.read_text().splitlines()]


def check_config_honoured(image, v):
    config = (image.parent / "config").read_text().splitlines()
    for line in config_lines(v):
        if line.startswith("CONFIG_"):
            assert line in config, line
        elif re.fullmatch(r"# CONFIG_\w+ is not set", line):
            sym = line.split()[1]
            assert not any(c.startswith(sym + "=") for c in config), line
    # tinyconfig drops madvise (and so MADV_PAGEOUT) unless asked for.
    assert "CONFIG_ADVISE_SYSCALLS=y" in config
    return config


def test_stock_build_and_cache_hit(stock_image):
    assert stock_image.exists() and stock_image.stat().st_size > 500_000
    t0 = time.monotonic()
    again = build()
    dt = time.monotonic() - t0
    assert again == stock_image
    assert dt < 10, f"a cache hit took {dt:.1f}s"
    d = stock_image.parent
    info = json.loads((d / "info.json").read_text())
    assert info["key"] == d.name and info["patches"] == [] and info["series"] == []
    assert info["kernel_release"].startswith("6.1.")
    assert info["overlay"] == "6.1.config"
    assert (d / "build.log").stat().st_size > 0


def test_config_fragment_honoured(stock_image):
    config = check_config_honoured(stock_image, "6.1")
    assert "CONFIG_SLUB=y" in config and "CONFIG_CRYPTO_LZO=y" in config


def test_patched_build_same_config_different_image(stock_image, patched_image):
    assert patched_image != stock_image
    assert (patched_image.parent / "config").read_text() == (stock_image.parent / "config").read_text()
    info = json.loads((patched_image.parent / "info.json").read_text())
    assert [p["name"] for p in info["patches"]] == [PATCH_NAME]
    assert patched_image.read_bytes() != stock_image.read_bytes()


def test_612_stock_build_and_config(stock612):
    info = json.loads((stock612.parent / "info.json").read_text())
    assert info["kernel_release"].startswith("6.12.") and info["kernel_version"].startswith("6.12.")
    assert info["overlay"] == "6.12.config"
    config = check_config_honoured(stock612, "6.12")
    # What the overlay is for: whole-folio shmem swap-out, full SLUB, zram's own lzo-rle.
    for line in ("CONFIG_THP_SWAP=y", "CONFIG_TRANSPARENT_HUGEPAGE=y", "CONFIG_SLUB=y",
                 "# CONFIG_SLUB_TINY is not set", "CONFIG_ZRAM_BACKEND_LZO=y", 'CONFIG_ZRAM_DEF_COMP="lzo-rle"'):
        assert line in config, line


def test_612_patched_build(stock612, patched612):
    assert patched612 != stock612
    assert (patched612.parent / "config").read_text() == (stock612.parent / "config").read_text()
    info = json.loads((patched612.parent / "info.json").read_text())
    assert [p["name"] for p in info["patches"]] == [PATCH_NAME]


def test_612_patched_build_started_from_stock_is_the_same_image(stock612, patched612, tmp_path):
    """A patched build starts from a copy of the stock build's objects and compiles only the
    patched file, yet its image is bit for bit the one a build from scratch makes."""
    log = (patched612.parent / "build.log").read_text()
    if "starting from the stock build" not in log:
        pytest.skip("the cached patched image was not built from the stock build")
    # The patched file, and the decompressor's C file, which includes offsets of the new vmlinux.
    compiled = re.findall(r"^  CC\s+(\S+)$", log, re.M)
    assert "fs/proc/task_mmu.o" in compiled and set(compiled) <= {"fs/proc/task_mmu.o",
                                                                  "arch/x86/boot/compressed/misc.o"}, compiled
    assert "HOSTCC" not in log
    if os.environ.get("PMB_KERNEL_TESTS") != "all":
        pytest.skip("the build from scratch to compare with takes another 5 to 15 minutes: "
                    "PMB_KERNEL_TESTS=all (done by hand on 2026-11-30: the same sha256)")
    # From scratch, in a private cache with nothing but the pristine trees (hard links).
    cache = patched612.parent.parent.parent
    mine = tmp_path / "cache"
    (mine / "src").mkdir(parents=True)
    shutil.copytree(cache / "srcid", mine / "srcid")
    for d in (cache / "src").glob("pristine-*"):
        if (d / ".complete").exists():
            subprocess.run(["cp", "-al", str(d), str(mine / "src")], check=True, timeout=600)
    r = run([BUILD_SH, "--kernel", "6.12", "--patches", PATCHES, "--cache", mine], timeout=5400)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "starting from the stock build" not in r.stderr
    assert Path(r.stdout.strip()).read_bytes() == patched612.read_bytes()


def cleanup_key(*extra):
    key = key_of(*extra)
    shutil.rmtree(cache_dir() / "src" / key, ignore_errors=True)
    shutil.rmtree(cache_dir() / "kernels" / key, ignore_errors=True)


@need_tarball("6.1")
def test_series_that_does_not_apply_is_a_usage_error(tmp_path):
    """The 6.12 series on 6.1: patch 1 fails; one line names it, its subject and its file; exit 64."""
    args = ["--kernel", "6.1", "--series", SERIES]
    try:
        r = run([BUILD_SH, *args], timeout=900)
        assert r.returncode == EXIT_USAGE, r.stderr[-2000:]
        assert r.stdout == ""
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith(f"build.sh: series patch 1 \"{SERIES_SUBJECTS[0]}\" does not apply")
        assert str(next(SERIES.glob("0001-*.patch"))) in last
        assert not (cache_dir() / "src" / key_of(*args)).exists(), "the useless tree is removed"
    finally:
        cleanup_key(*args)


@need_tarball("6.12")
def test_second_series_patch_that_does_not_apply(tmp_path):
    """Patch 1 twice: the second copy cannot apply on top of the first."""
    s = tmp_path / "series"
    s.mkdir()
    first = next(SERIES.glob("0001-*.patch"))
    shutil.copy(first, s / "0001-a.patch")
    shutil.copy(first, s / "0002-b.patch")
    args = ["--kernel", "6.12", "--series", s]
    try:
        r = run([BUILD_SH, *args], timeout=900)
        assert r.returncode == EXIT_USAGE, r.stderr[-2000:]
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith(f"build.sh: series patch 2 \"{SERIES_SUBJECTS[0]}\" does not apply")
        assert last.endswith(f"{s / '0002-b.patch'} (see {cache_dir() / 'kernels' / key_of(*args) / 'build.log'})")
    finally:
        cleanup_key(*args)


@need_tarball("6.1")
def test_required_option_that_cannot_be_set_fails_naming_it(tmp_path):
    c = tmp_path / "config"
    shutil.copytree(CONFIG, c)
    with open(c / "6.1.config", "a") as f:
        f.write("CONFIG_PMB_NO_SUCH_OPTION=y\n# CONFIG_USERFAULTFD is not set\n")
    args = ["--config", c]
    if os.environ.get("PMB_KERNEL_TESTS") != "1" and not image_of().exists():
        pytest.skip("configures a kernel tree: set PMB_KERNEL_TESTS=1")
    try:
        r = run([BUILD_SH, *args], timeout=900)
        assert r.returncode == EXIT_ERROR, r.stderr[-2000:]
        assert "config: CONFIG_PMB_NO_SUCH_OPTION: wanted 'CONFIG_PMB_NO_SUCH_OPTION=y', got 'unset'" in r.stderr
        # The overlay's line wins over the common one, in .config and in the check.
        assert "CONFIG_USERFAULTFD" not in r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert "config not honoured" in last and "CONFIG_PMB_NO_SUCH_OPTION" in last
    finally:
        cleanup_key(*args)


# ---------------------------------------------------------------- vm.sh


@pytest.fixture
def standin_bin(tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    shutil.copy(STANDIN, d / "pmbench")
    os.chmod(d / "pmbench", 0o755)
    return d


def qemu_pids_under(path):
    """Processes whose command line mentions path (our private TMPDIR)."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmd and "qemu" in cmd:
            pids.append(int(p.name))
    return pids


def vm(image, bindir, out, *args, extra=(), timeout=300, tmpdir=None):
    env = dict(os.environ)
    if tmpdir:
        env["TMPDIR"] = str(tmpdir)
    return run([VM_SH, "--kernel", image, "--bin", bindir, "--out", out, "--mode", "tcg", *extra, "--", *args],
               timeout=timeout, env=env)


@pytest.mark.parametrize("args", [
    [],
    ["--kernel", "/nonexistent", "--bin", "/tmp", "--out", "/tmp/x"],
    ["--bogus"],
    ["--kernel", "K", "--bin", "B", "--out", "O", "--mode", "fast"],
])
def test_vm_bad_options(args, tmp_path):
    r = run([VM_SH, *args], cwd=tmp_path)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert r.stderr.startswith("vm.sh: ")


@pytest.mark.parametrize("opt,val", [("--smp", "0"), ("--mem", "lots"), ("--timeout", "-1"), ("--mode", "kvmm")])
def test_vm_bad_values(opt, val, tmp_path, standin_bin):
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"x")
    r = run([VM_SH, "--kernel", kernel, "--bin", standin_bin, "--out", tmp_path / "out", opt, val, "--", "a"])
    assert r.returncode == EXIT_USAGE, r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_vm_needs_pmbench_in_bin(tmp_path):
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"x")
    r = run([VM_SH, "--kernel", kernel, "--bin", tmp_path, "--out", tmp_path / "out", "--", "a"])
    assert r.returncode == EXIT_USAGE and "pmbench" in r.stderr


def guest_facts(run_dir):
    text = (run_dir / "guest.txt").read_text()
    guest = dict(l.split("=", 1) for l in text.splitlines() if "=" in l and not l.startswith("arg="))
    args = [l for l in text.splitlines() if l.startswith("arg=")]
    return guest, args


def test_vm_boots_stock_with_standin(stock612, standin_bin, tmp_path):
    out = tmp_path / "out"
    r = vm(stock612, standin_bin, out, "run", "--profile", "two words", tmpdir=tmp_path)
    assert r.returncode == STANDIN_EXIT, r.stderr
    run_dir = out / "test-run"
    assert r.stdout.splitlines() == [str(run_dir)]
    assert json.loads((run_dir / "meta.json").read_text())["standin"] is True
    console = (run_dir / "console.log").read_text(errors="replace")
    assert "PMB-GUEST-START" in console and "PMB-GUEST-END exit=5 tar=0" in console
    guest, args = guest_facts(run_dir)
    assert guest["release"].startswith("6.12.")
    assert guest["cpus"] == "2", "with -smp 2 the guest must see 2 CPUs"
    assert "memory" in guest["controllers"].split()
    assert "memory" in guest["subtree"].split()
    assert "hot_add" in guest["zram_control"].split()
    assert args == ["arg=[run]", "arg=[--profile]", "arg=[two words]", "arg=[--results]", "arg=[/results]"]
    # The default console log is removed once it has been copied into the run dirs.
    assert sorted(p.name for p in out.iterdir()) == ["test-run"]
    assert not qemu_pids_under(tmp_path)

    # A second run making the same run directory must not overwrite it.
    before = (run_dir / "guest.txt").read_text()
    r = vm(stock612, standin_bin, out, "run", tmpdir=tmp_path)
    assert r.returncode == EXIT_ERROR
    assert "already exists" in r.stderr
    assert (run_dir / "guest.txt").read_text() == before


def test_vm_timeout_kills_qemu_and_keeps_console(stock612, standin_bin, tmp_path):
    out = tmp_path / "out"
    console = tmp_path / "console.log"
    t0 = time.monotonic()
    r = vm(stock612, standin_bin, out, "hang", extra=["--timeout", "20", "--console", console],
           tmpdir=tmp_path, timeout=120)
    dt = time.monotonic() - t0
    assert r.returncode == EXIT_ERROR, r.stderr
    assert len(r.stderr.strip().splitlines()[-1]) > 0 and "timed out" in r.stderr
    assert str(console) in r.stderr
    assert "PMB-GUEST-START" in console.read_text(errors="replace")
    assert "standin: hanging" in console.read_text(errors="replace")
    assert dt < 60
    assert not qemu_pids_under(tmp_path), "qemu left running"
    assert not out.exists() or not any(p.is_dir() for p in out.iterdir())
    assert not list(tmp_path.glob("pmb-vm.*")), "temporary files left behind"


def test_vm_boot_failure_is_reported(tmp_path, standin_bin):
    """A file that is no kernel: qemu fails, no start marker, exit 3, console kept."""
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"\0" * 4096)
    console = tmp_path / "console.log"
    r = vm(kernel, standin_bin, tmp_path / "out", "x", extra=["--timeout", "30", "--console", console],
           tmpdir=tmp_path, timeout=60)
    assert r.returncode == EXIT_ERROR, r.stderr
    assert "did not boot" in r.stderr and str(console) in r.stderr
    assert console.exists()
    assert not qemu_pids_under(tmp_path)


def test_vm_kvm_mode_probes(stock612, standin_bin, tmp_path):
    """--mode kvm either runs or skips (77) with the probe's reason; never a silent TCG run."""
    r = run([VM_SH, "--kernel", stock612, "--bin", standin_bin, "--out", tmp_path / "out", "--mode", "kvm",
             "--timeout", "120", "--", "run"], timeout=200, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode in (STANDIN_EXIT, EXIT_SKIP), r.stderr
    if r.returncode == EXIT_SKIP:
        assert "skip: kvm not usable here" in r.stderr
    probe = Path("/run/pagemap-bench/kvm-probe")
    assert probe.exists()
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert probe.read_text().split()[0] == boot_id
    assert not qemu_pids_under(tmp_path)


def test_vm_boots_patched_with_standin(patched612, standin_bin, tmp_path):
    r = vm(patched612, standin_bin, tmp_path / "out", "run", extra=["--mode", "icount"], tmpdir=tmp_path)
    assert r.returncode == STANDIN_EXIT, r.stderr
    guest = (tmp_path / "out" / "test-run" / "guest.txt").read_text()
    assert "cpus=1" in guest, "icount forces one vCPU"


# ---------------------------------------------------------------- the patch at work


@pytest.fixture(scope="module")
def probe_bin(tmp_path_factory):
    """The stand-in plus tests/kernels/shmem_swap_probe.c, built static."""
    d = tmp_path_factory.mktemp("probe-bin")
    shutil.copy(STANDIN, d / "pmbench")
    os.chmod(d / "pmbench", 0o755)
    r = run(["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-I", ROOT / "lib", "-O2", "-Wall", "-Wextra", "-Werror",
             "-static", "-o", d / "shmem_swap_probe", ROOT / "tests/kernels/shmem_swap_probe.c"])
    assert r.returncode == 0, r.stderr
    return d


def parse_probe(text):
    """KIND k=v ... lines of shmem_swap_probe into {KIND: {k: int}}."""
    res = {}
    for line in text.splitlines():
        kind, *fields = line.split()
        if fields and all(re.fullmatch(r"\w+=-?\d+", f) for f in fields):
            res[kind] = {k: int(v) for k, v in (f.split("=") for f in fields)}
    return res


def guest_probe(image, bindir, tmp_path, what="swap", mode="tcg", timeout=600):
    out = tmp_path / f"out-{what}-{mode}"
    r = vm(image, bindir, out, what, extra=["--mode", mode, "--timeout", str(timeout)], tmpdir=tmp_path,
           timeout=timeout + 60)
    assert r.returncode == STANDIN_EXIT, r.stderr
    name = "probe.txt" if what == "swap" else "time.txt"
    text = (out / "test-run" / name).read_text()
    assert "probe_exit=0" in text, text
    res = parse_probe(text)
    res["console"] = (out / "test-run" / "console.log").read_text(errors="replace")
    res["dmesg"] = (out / "test-run" / "dmesg.txt").read_text(errors="replace")
    return res


PRIVATE_OK = {"present": 0, "swapped": 64, "none": 0, "slots": 64, "bad": 0}


def sub(d, keys):
    return {k: d[k] for k in keys}


def test_stock_reports_swapped_shmem_as_none(stock_image, probe_bin, tmp_path):
    """The bug under study: a swapped-out memfd page reads back all-zero on 6.1."""
    res = guest_probe(stock_image, probe_bin, tmp_path)
    assert sub(res["private"], PRIVATE_OK) == PRIVATE_OK, res
    for kind in ("memfd", "shared-anon"):
        assert sub(res[kind], ["present", "swapped", "none"]) == {"present": 0, "swapped": 0, "none": 64}, res
        assert res[kind]["scan"] == -1, "6.1 has no PAGEMAP_SCAN"
    assert res["mthp64"] == {"skipped": 1}, "6.1 has no shmem mTHP"


def test_patched_reports_swapped_shmem(patched_image, probe_bin, tmp_path):
    res = guest_probe(patched_image, probe_bin, tmp_path)
    for kind in ("private", "memfd", "shared-anon"):
        assert sub(res[kind], PRIVATE_OK) == PRIVATE_OK, (kind, res)
    assert res["mthp64"] == {"skipped": 1}


def test_612_stock_reports_swapped_shmem_as_none(stock612, probe_bin, tmp_path):
    """6.12 stock: none on read(), not swapped on PAGEMAP_SCAN, for 4 KiB and 64 KiB folios alike."""
    res = guest_probe(stock612, probe_bin, tmp_path)
    assert res["private"] == {**PRIVATE_OK, "scan": 64}, res
    for kind in ("memfd", "shared-anon"):
        assert res[kind] == {"present": 0, "swapped": 0, "none": 64, "scan": 0, "slots": 0, "bad": 0}, (kind, res)
    m = res["mthp64"]
    assert m["alloc"] == 16 and m["swpout"] == 16, f"16 folios of 64 KiB allocated and swapped out whole: {m}"
    assert sub(m, ["present", "swapped", "none", "scan"]) == {"present": 0, "swapped": 0, "none": 256, "scan": 0}, m


def test_612_patched_reports_swapped_shmem_with_checked_slots(patched612, probe_bin, tmp_path):
    res = guest_probe(patched612, probe_bin, tmp_path)
    for kind in ("private", "memfd", "shared-anon"):
        assert res[kind] == {**PRIVATE_OK, "scan": 64}, (kind, res)
    m = res["mthp64"]
    assert m["alloc"] == 16 and m["swpout"] == 16, f"16 folios of 64 KiB swapped out whole: {m}"
    # Every page its own slot: distinct, consecutive within each folio, holding the page's pattern.
    assert m == {"folios": 16, "alloc": 16, "swpout": 16, "present": 0, "swapped": 256, "none": 0, "scan": 256,
                 "slots": 256, "bad": 0, "distinct": 256, "consecutive": 16}, m
    assert "WARNING:" not in res["dmesg"] and "BUG:" not in res["dmesg"]


WARN_RUN = ["--kinds", "memfd,private-anon", "--size", "2M", "--dirty", "50", "--swapped", "50",
            "--views", "self", "--no-sequence", "--methods", "dense", "--rounds", "3", "--warmup", "1",
            "--series", "1"]


def test_612_warn_kernel_fails_the_gate(patched612, bins, tmp_path):
    """A kernel that WARNs in the pagemap read path fails the gate with exit 2, the log quoted.

    The WARN kernel is the port plus tests/kernels/warn-6.12.patch: a WARN_ON_ONCE on the first
    read of a none PTE in a shmem VMA.  Its pagemap answers stay right, so only the kernel log
    can fail it.
    """
    image = built("--kernel", "6.12", "--patches", PATCHES, "--series", WARN_PATCH)
    info = json.loads((image.parent / "info.json").read_text())
    assert [s["subject"] for s in info["series"]] == ["pagemap: TEST ONLY: warn on the first shmem none PTE a read walks"]
    r = run([KERNELS / "ab.sh", "--stock", patched612, "--patched", image, "--out", tmp_path / "ab",
             "--timeout", "900", *WARN_RUN], timeout=3600, env={**os.environ, "PMB_BIN": str(bins)})
    assert r.returncode == 2, r.stdout[-3000:] + r.stderr[-3000:]
    cases = {c["case"]: c for c in csv.DictReader((tmp_path / "ab" / "patched" / "cases.tsv")
                                                  .read_text().splitlines()[1:], delimiter="\t")}
    warned = [c for c in cases.values() if c["verdict"] == "incorrect"]
    assert warned and all(c["kind"] == "memfd" for c in warned), cases
    # The pagemap answers themselves are right: only the log makes the case incorrect.
    assert all(int(c["t_swapped_r_swapped"]) == int(c["true_swapped"]) for c in warned), warned
    stock = {c["case"]: c for c in csv.DictReader((tmp_path / "ab" / "stock" / "cases.tsv")
                                                  .read_text().splitlines()[1:], delimiter="\t")}
    assert all(c["verdict"] == "correct" for c in stock.values()), stock
    report = (tmp_path / "ab" / "gate" / "report.md").read_text()
    # DEBUG_BUGVERBOSE names file and line (there are no symbols: tinyconfig has no KALLSYMS).
    assert re.search(r"WARNING: CPU: \d+ PID: \d+ at \S*fs/proc/task_mmu\.c:\d+", report), report[-3000:]
    assert "WARNING" in (tmp_path / "ab" / "gate" / "reply.txt").read_text()


# ---------------------------------------------------------------- --tree --rev


@pytest.fixture(scope="module")
def kernel_git_tree(tmp_path_factory):
    """A git repository of Debian's 6.12 source: commit 'base', then the port as commit 'port'."""
    if os.environ.get("PMB_KERNEL_TESTS") != "1":
        pytest.skip("makes a 1.5 GB git repository and builds a kernel: set PMB_KERNEL_TESTS=1")
    if not TARBALL["6.12"].exists():
        pytest.skip(f"{TARBALL['6.12']} missing")
    top = tmp_path_factory.mktemp("kernel-git")
    env = {**os.environ, "GIT_AUTHOR_NAME": "pagemap-bench", "GIT_AUTHOR_EMAIL": "pagemap-bench@localhost",
           "GIT_COMMITTER_NAME": "pagemap-bench", "GIT_COMMITTER_EMAIL": "pagemap-bench@localhost",
           "GIT_AUTHOR_DATE": "2021-08-01T00:00:00Z", "GIT_COMMITTER_DATE": "2021-08-01T00:00:00Z"}
    subprocess.run(["tar", "-xf", TARBALL["6.12"], "-C", top], check=True, timeout=600)
    repo = top / "linux-source-6.12"
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True, env=env,
                                    timeout=1200)
    git("init", "-q", "-b", "main")
    git("add", "-A", "-f")  # Debian's top-level .gitignore ignores everything but debian/
    git("commit", "-qm", "Debian linux-source-6.12")
    git("tag", "base")
    git("am", "-q", str(PATCH["6.12"]))
    git("tag", "port")
    yield repo
    shutil.rmtree(top, ignore_errors=True)


def checkout_state(repo):
    """What building must leave alone: HEAD, the index, the status, worktrees, stashes."""
    # GIT_OPTIONAL_LOCKS=0: our own `git status` must not refresh the index either.
    g = lambda *a: subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True,
                                  env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout
    index = repo / ".git" / "index"
    return {"head": g("rev-parse", "HEAD"), "status": g("status", "--porcelain"),
            "index": (index.stat().st_mtime_ns, index.read_bytes()),
            "worktrees": g("worktree", "list"), "stash": g("stash", "list"),
            "gitdir": sorted(p.name for p in (repo / ".git").iterdir())}


def test_tree_rev_builds_a_clean_copy(kernel_git_tree, stock612):
    """--tree --rev builds the commit, not the checkout, and leaves the checkout alone."""
    repo = kernel_git_tree
    # A local change in the checkout must not reach the image.
    mmu = repo / "fs/proc/task_mmu.c"
    saved = mmu.read_text()
    mmu.write_text(saved + "\n#error the checkout's working tree must not be built\n")
    try:
        before = checkout_state(repo)
        base = build("--tree", repo, "--rev", "base")
        info = json.loads((base.parent / "info.json").read_text())
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "base^{commit}"], capture_output=True,
                                text=True).stdout.strip()
        assert info["source_kind"] == "git" and info["commit"] == commit and info["rev"] == "base"
        assert info["kernel_release"].startswith("6.12.")
        assert checkout_state(repo) == before, "building must not touch the checkout"
        # The same source as the tarball build, so the same bits (the #error was not built).
        assert base.read_bytes() == stock612.read_bytes()
    finally:
        mmu.write_text(saved)


# Small enough for four icount boots; dense reads of private memory show
# patch 3's delay, memfd shows patches 1 (read()) and 2 (PAGEMAP_SCAN).
BISECT_RUN = ["--size", "4M", "--rounds", "5", "--warmup", "1", "--series", "1", "--sparse-reads", "16",
              "--methods", "dense,batched,scan-ioctl", "--batches", "64"]


def test_bisect_names_each_patch_of_a_series_in_a_git_tree(kernel_git_tree, bins, tmp_path):
    """./run.sh bisect on the three-patch series on top of the tree's base commit.

    Patch 1 makes read() report swapped shmem (correctness changes), patch 2
    does the same for PAGEMAP_SCAN, patch 3 slows down reads of private memory
    by a few per cent: under icount (instructions) that is a regression the
    gate can see, and nothing else is.
    """
    out = tmp_path / "bisect"
    r = run([KERNELS / "bisect.sh", "--tree", kernel_git_tree, "--base", "base", "--series", SERIES,
             "--out", out, "--timeout", "900", *BISECT_RUN], timeout=7200,
            env={**os.environ, "PMB_BIN": str(bins)})
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]   # a regression; no patch breaks a case
    text = (out / "bisect.txt").read_text()
    # At most 72 columns, but a word is never broken: a longer Message-Id stands on its own line.
    assert all(len(line) <= 72 or len(line.rstrip(" \\").split()) == 1 for line in text.splitlines()), text
    assert "mode: icount" in (out / "bisect-params.txt").read_text() or "kvm" in (out / "bisect-params.txt").read_text()
    ids = [l.split("\t")[2] for l in run([BUILD_SH, "--list-series", SERIES]).stdout.splitlines()]
    assert len(ids) == 3 and all(i.startswith("<") for i in ids), ids
    unfolded = " ".join(text.split())
    assert f'First patch that changes correctness: 1: "{SERIES_SUBJECTS[0]}" {ids[0]}' in unfolded, text
    assert f'First patch that regresses: 3: "{SERIES_SUBJECTS[2]}" {ids[2]}' in unfolded, text
    steps = {k: json.loads((out / f"step-{k}" / "compare.json").read_text()) for k in (1, 2, 3)}

    def differ(k):
        return {c["case"]: c for c in steps[k]["correctness"] if c.get("differs")}

    # Patch 1 changes what read() reports for shmem: PAGEMAP_SCAN is still wrong there, so those
    # cases stay incorrect but with fewer methods wrong; patch 2 makes them correct.
    assert differ(1) and all(c.startswith(("memfd-", "shared-anon-")) for c in differ(1)), differ(1)
    assert all(c["verdict_cand"] == "correct" for c in differ(2).values()) and \
        set(differ(2)) <= set(differ(1)) and differ(2), differ(2)
    assert not any(c.get("differs") for c in steps[3]["correctness"])
    slower = {(r["case"], r["method"]) for r in steps[3]["rows"] if r["verdict"] == "regression"}
    assert slower and all(c.startswith("private-anon-") for c, _ in slower), slower
    for k in (1, 2):
        assert not any(r["verdict"] == "regression" and r["case"].startswith("private-anon-")
                       for r in steps[k]["rows"]), k
