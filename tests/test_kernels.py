"""Kernel images (kernels/build.sh), the 6.1 port of the patch and the QEMU runner (kernels/vm.sh).

Tests that build a kernel or boot one run only when PMB_KERNEL_TESTS=1 (CI sets
it) or when the image they need is already in the cache (a first build takes
about 10 minutes on 2 cores).  The cache is $PMB_CACHE, else /var/cache/pagemap-bench as
root, else <repo>/.cache.
"""
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, EXIT_ERROR, EXIT_USAGE, EXIT_SKIP

KERNELS = ROOT / "kernels"
BUILD_SH = KERNELS / "build.sh"
VM_SH = KERNELS / "vm.sh"
PATCHES = KERNELS / "patches"
PATCH = PATCHES / "0001-pagemap-report-swap-location-for-shared-pages.patch"
FRAGMENT = KERNELS / "config" / "pagemap-bench.config"
STANDIN = ROOT / "tests" / "kernels" / "standin-pmbench"
TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
STANDIN_EXIT = 5

need_tarball = pytest.mark.skipif(not TARBALL.exists(), reason=f"{TARBALL} missing (apt-get install linux-source-6.1)")


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


def kernel_tests_enabled(*extra):
    """Run when CI asks for it or when the image is already cached."""
    if os.environ.get("PMB_KERNEL_TESTS") == "1":
        return
    if not TARBALL.exists():
        pytest.skip(f"{TARBALL} missing")
    if not image_of(*extra).exists():
        pytest.skip("builds a kernel: set PMB_KERNEL_TESTS=1 (or build the image first with kernels/build.sh)")


def build(*extra, timeout=3600):
    r = run([BUILD_SH, *extra], timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"stdout must be the image path only: {r.stdout!r}"
    return Path(lines[0])


@pytest.fixture(scope="module")
def stock_image():
    kernel_tests_enabled()
    return build()


@pytest.fixture(scope="module")
def patched_image():
    kernel_tests_enabled("--patches", PATCHES)
    return build("--patches", PATCHES)


# ---------------------------------------------------------------- the patch


def function_body(c_text, name):
    """The text of a top-level C function, from its name to the closing brace."""
    m = re.search(r"^static int " + name + r"\(.*?^}$", c_text, re.M | re.S)
    assert m, name
    return m.group(0)


def test_patch_is_a_git_format_patch():
    text = PATCH.read_text()
    assert text.startswith("From ")
    assert re.search(r"^From: .+<.+@.+>$", text, re.M)
    assert re.search(r"^Subject: \[PATCH\] pagemap: report swap location for shared pages$", text, re.M)
    files = re.findall(r"^diff --git a/(\S+) b/", text, re.M)
    assert files == ["fs/proc/task_mmu.c"]


@need_tarball
def test_patch_applies_cleanly_to_61_task_mmu(tmp_path):
    """Extract only fs/proc/task_mmu.c from the tarball and apply the patch to it."""
    with tarfile.open(TARBALL, "r:xz") as tf:
        member = next(m for m in tf if m.name.endswith("/fs/proc/task_mmu.c") and m.name.count("/") == 3)
        src = tf.extractfile(member).read()
    tree = tmp_path / "linux"
    (tree / "fs/proc").mkdir(parents=True)
    (tree / "fs/proc/task_mmu.c").write_bytes(src)
    r = run(["patch", "-p1", "--forward", "--no-backup-if-mismatch", "-d", tree, "-i", PATCH])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "offset" not in r.stdout and "fuzz" not in r.stdout, f"not clean: {r.stdout}"
    out = (tree / "fs/proc/task_mmu.c").read_text()
    assert "shmem_file(vma->vm_file)" in out
    assert "xa_is_value(" in out and "radix_to_swp_entry(" in out
    assert "linear_page_index(vma, addr)" in out
    # pagemap_pte_hole() is deliberately left alone (a limit the harness shows).
    assert function_body(out, "pagemap_pte_hole") == function_body(src.decode(), "pagemap_pte_hole")
    # Applying twice must fail: the patch is not already in 6.1.
    r = run(["patch", "-p1", "--forward", "--dry-run", "-d", tree, "-i", PATCH])
    assert r.returncode != 0


# ---------------------------------------------------------------- build.sh


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--jobs", "x"],
    ["--jobs", "0"],
    ["--jobs"],
    ["--patches", "/nonexistent"],
    ["--source", "/nonexistent.tar.xz"],
])
def test_build_bad_options(args):
    r = run([BUILD_SH, *args])
    assert r.returncode == EXIT_USAGE, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("build.sh: ")


def test_build_help():
    r = run([BUILD_SH, "--help"])
    assert r.returncode == 0 and "--patches" in r.stdout


@need_tarball
def test_patched_key_differs_from_stock():
    stock, patched = key_of(), key_of("--patches", PATCHES)
    assert stock != patched
    assert key_of() == stock, "the key must be stable"
    assert key_of("--patches", "none") == stock


@need_tarball
def test_key_covers_fragment_and_patch_content(tmp_path):
    pdir = tmp_path / "patches"
    pdir.mkdir()
    shutil.copy(PATCH, pdir / PATCH.name)
    k1 = key_of("--patches", pdir)
    assert k1 == key_of("--patches", PATCHES), "key depends on content, not on the patch dir's path"
    with open(pdir / PATCH.name, "a") as f:
        f.write("\n")
    assert key_of("--patches", pdir) != k1


def test_stock_build_and_cache_hit(stock_image):
    assert stock_image.exists() and stock_image.stat().st_size > 500_000
    t0 = time.monotonic()
    again = build()
    dt = time.monotonic() - t0
    assert again == stock_image
    assert dt < 10, f"a cache hit took {dt:.1f}s"
    d = stock_image.parent
    info = json.loads((d / "info.json").read_text())
    assert info["key"] == d.name and info["patches"] == []
    assert info["kernel_release"].startswith("6.1.")
    assert (d / "build.log").stat().st_size > 0


def test_config_fragment_honoured(stock_image):
    config = (stock_image.parent / "config").read_text().splitlines()
    for line in FRAGMENT.read_text().splitlines():
        if line.startswith("CONFIG_"):
            assert line in config, line
        elif re.fullmatch(r"# CONFIG_\w+ is not set", line):
            sym = line.split()[1]
            assert not any(c.startswith(sym + "=") for c in config), line
    # tinyconfig drops madvise (and so MADV_PAGEOUT) unless asked for.
    assert "CONFIG_ADVISE_SYSCALLS=y" in config


def test_patched_build_same_config_different_image(stock_image, patched_image):
    assert patched_image != stock_image
    assert (patched_image.parent / "config").read_text() == (stock_image.parent / "config").read_text()
    info = json.loads((patched_image.parent / "info.json").read_text())
    assert [p["name"] for p in info["patches"]] == [PATCH.name]
    assert patched_image.read_bytes() != stock_image.read_bytes()


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


def test_vm_boots_stock_with_standin(stock_image, standin_bin, tmp_path):
    out = tmp_path / "out"
    r = vm(stock_image, standin_bin, out, "run", "--profile", "two words", tmpdir=tmp_path)
    assert r.returncode == STANDIN_EXIT, r.stderr
    run_dir = out / "test-run"
    assert r.stdout.splitlines() == [str(run_dir)]
    assert json.loads((run_dir / "meta.json").read_text())["standin"] is True
    console = (run_dir / "console.log").read_text(errors="replace")
    assert "PMB-GUEST-START" in console and "PMB-GUEST-END exit=5 tar=0" in console
    guest = dict(l.split("=", 1) for l in (run_dir / "guest.txt").read_text().splitlines()
                 if "=" in l and not l.startswith("arg="))
    args = [l for l in (run_dir / "guest.txt").read_text().splitlines() if l.startswith("arg=")]
    assert guest["release"].startswith("6.1.")
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
    r = vm(stock_image, standin_bin, out, "run", tmpdir=tmp_path)
    assert r.returncode == EXIT_ERROR
    assert "already exists" in r.stderr
    assert (run_dir / "guest.txt").read_text() == before


def test_vm_timeout_kills_qemu_and_keeps_console(stock_image, standin_bin, tmp_path):
    out = tmp_path / "out"
    console = tmp_path / "console.log"
    t0 = time.monotonic()
    r = vm(stock_image, standin_bin, out, "hang", extra=["--timeout", "20", "--console", console],
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


def test_vm_kvm_mode_probes(stock_image, standin_bin, tmp_path):
    """--mode kvm either runs or skips (77) with the probe's reason; never a silent TCG run."""
    r = run([VM_SH, "--kernel", stock_image, "--bin", standin_bin, "--out", tmp_path / "out", "--mode", "kvm",
             "--timeout", "120", "--", "run"], timeout=200, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode in (STANDIN_EXIT, EXIT_SKIP), r.stderr
    if r.returncode == EXIT_SKIP:
        assert "skip: kvm not usable here" in r.stderr
    probe = Path("/run/pagemap-bench/kvm-probe")
    assert probe.exists()
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert probe.read_text().split()[0] == boot_id
    assert not qemu_pids_under(tmp_path)


def test_vm_boots_patched_with_standin(patched_image, standin_bin, tmp_path):
    r = vm(patched_image, standin_bin, tmp_path / "out", "run", extra=["--mode", "icount"], tmpdir=tmp_path)
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


def guest_probe(image, bindir, tmp_path):
    r = vm(image, bindir, tmp_path / "out", "swap", tmpdir=tmp_path)
    assert r.returncode == STANDIN_EXIT, r.stderr
    text = (tmp_path / "out" / "test-run" / "probe.txt").read_text()
    assert "probe_exit=0" in text, text
    res = {}
    for line in text.splitlines():
        kind, *fields = line.split()
        if fields:
            res[kind] = {k: int(v) for k, v in (f.split("=") for f in fields)}
    return res


def test_stock_reports_swapped_shmem_as_none(stock_image, probe_bin, tmp_path):
    """The bug under study: a swapped-out memfd page reads back all-zero on 6.1."""
    res = guest_probe(stock_image, probe_bin, tmp_path)
    assert res["private"]["swapped"] == 64, res
    assert res["memfd"] == {"present": 0, "swapped": 0, "none": 64}, res


def test_patched_reports_swapped_shmem(patched_image, probe_bin, tmp_path):
    res = guest_probe(patched_image, probe_bin, tmp_path)
    assert res["private"]["swapped"] == 64, res
    assert res["memfd"] == {"present": 0, "swapped": 64, "none": 0}, res
