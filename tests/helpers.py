"""What the test files share: the catalog, exit codes, readers of /proc and of
result files, and the drivers of pmscan targets and pmwork children.

Fixtures live in conftest.py; everything here is a plain function or class.
"""
import csv
import ctypes
import errno
import os
import platform
import re
import signal
import struct
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

# The exit codes every program shares (README.md, "Exit codes").
EXIT_PASS, EXIT_REGRESSION, EXIT_INCORRECT, EXIT_ERROR, EXIT_INCONCLUSIVE = 0, 1, 2, 3, 4
EXIT_USAGE, EXIT_SKIP = 64, 77

PAGE = os.sysconf("SC_PAGE_SIZE")
PMD_PAGES = 512
# The pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
PM_PRESENT, PM_SWAP, PM_FILE, PM_EXCLUSIVE = 1 << 63, 1 << 62, 1 << 61, 1 << 56
PM_PFN_MASK = (1 << 55) - 1
# A page's state as pmwork's STATE vector and pmscan --classify give it.
NONE, PRESENT, SWAPPED = 0, 1, 2

# Generous bounds for a busy machine: waits poll until these, never sleep a fixed time.
TIMEOUT = 60


# ---------------------------------------------------------------- the catalog

Method = namedtuple("Method", "id name args compare traits order desc")
Kind = namedtuple("Kind", "id name backing traits desc")
Catalog = namedtuple("Catalog", "methods kinds")


def _macro_args(text, i):
    """The top-level arguments of the macro call whose '(' is text[i]."""
    args, cur, depth = [], [], 0
    i += 1
    while True:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ")" or (ch == "," and not depth):
            args.append("".join(cur).strip())
            cur = []
            if ch == ")":
                return args
            i += 1
            continue
        cur.append(ch)
        i += 1


def _string(arg):
    """A C string literal (adjacent literals concatenated)."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    assert parts and re.fullmatch(r'(\s*"(?:[^"\\]|\\.)*")+\s*', arg), arg
    return re.sub(r"\\(.)", r"\1", "".join(parts))


def _flags(expr, prefix):
    """'PMB_M_READ | PMB_M_SWEEP' -> ('read', 'sweep'); '0' and PREFIX_NONE -> ()."""
    if expr.strip() == "0":
        return ()
    out = []
    for tok in expr.split("|"):
        tok = tok.strip()
        assert tok.startswith(prefix), f"{tok!r} is not a {prefix}* name"
        word = tok[len(prefix):].lower().replace("_", "-")
        if word != "none":
            out.append(word)
    return tuple(out)


def _word(expr, prefix):
    (w,) = _flags(expr, prefix) or ("none",)
    return w


def parse_catalog(text):
    """The rows of catalog/catalog.def, in file order."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    methods, kinds = [], []
    for m in re.finditer(r"\bPMB_(METHOD|METRIC|KIND)\s*\(", text):
        a = _macro_args(text, m.end() - 1)
        if m.group(1) == "METHOD":
            assert len(a) == 7, a
            methods.append(Method(a[0], _string(a[1]), _flags(a[2], "PMB_ARG_"),
                                  _word(a[3], "PMB_CMP_"), _flags(a[4], "PMB_M_"),
                                  int(a[5]), _string(a[6])))
        elif m.group(1) == "METRIC":
            assert len(a) == 4, a
            methods.append(Method(a[0], _string(a[1]), (), "none", ("metric",), int(a[2]),
                                  _string(a[3])))
        else:
            assert len(a) == 5, a
            kinds.append(Kind(a[0], _string(a[1]), _word(a[2], "PMB_BACKING_"),
                              _flags(a[3], "PMB_K_"), _string(a[4])))
    return Catalog(methods, kinds)


CATALOG = parse_catalog((ROOT / "catalog" / "catalog.def").read_text())

# pmscan's methods (co-metrics such as swapin are timed by pmwork, not pmscan)
METHODS = [m.name for m in CATALOG.methods if "metric" not in m.traits]
METRICS = [m.name for m in CATALOG.methods if "metric" in m.traits]
READ_METHODS = [m.name for m in CATALOG.methods if "read" in m.traits]
COMPARE = {m.name: m.compare for m in CATALOG.methods}
KINDS = [k.name for k in CATALOG.kinds]
SHMEM_KINDS = [k.name for k in CATALOG.kinds if k.backing == "shmem"]
ANON_KINDS = [k.name for k in CATALOG.kinds if k.backing == "anon"]
FILE_KINDS = [k.name for k in CATALOG.kinds if k.backing == "file"]
SWAP_KINDS = [k.name for k in CATALOG.kinds if k.backing != "file"]   # pages go to swap
THP_KINDS = [k.name for k in CATALOG.kinds if "thp" in k.traits]       # PMD-mapped
# Kinds whose pages come in large folios that leave memory whole: THP (a 2 MiB block)
# and mTHP (64 KiB).  They are dirtied whole, and paged out in whole folios.
FOLIO_PAGES = {k.name: PMD_PAGES if "thp" in k.traits else (64 << 10) // PAGE
               for k in CATALOG.kinds if {"thp", "mthp"} & set(k.traits)}
LARGE_FOLIO_KINDS = list(FOLIO_PAGES)
# What `pmbench run` builds without --kinds (README.md): the tests' quick set.
QUICK_KINDS = ["memfd", "private-anon", "shared-anon"]


def method_of(spec):
    """The catalog row of a --method SPEC such as uring:64:4."""
    name = spec.split(":")[0]
    (m,) = [m for m in CATALOG.methods if m.name == name]
    return m


# ---------------------------------------------------------------- programs

def run(binary, *args, timeout=TIMEOUT, **kw):
    """Run a program with text output captured."""
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kw)


def run_pmbench(pmb, *args, timeout=240, env=None, **kw):
    """pmbench with PMB_PLOTS_DIR set to the repository's plots/ (and env added)."""
    full = dict(os.environ, PMB_PLOTS_DIR=str(ROOT / "plots"), **(env or {}))
    return run(pmb, *args, timeout=timeout, env=full, **kw)


def read_tsv(path, table=None):
    """The rows of a pagemap-bench TSV file as dicts.  Its first line is the schema
    line `# pagemap-bench TABLE v1` (any table when table is None)."""
    lines = Path(path).read_text().splitlines()
    if table:
        assert lines[0] == f"# pagemap-bench {table} v1", lines[0]
    else:
        assert lines[0].startswith("# pagemap-bench "), lines[0]
    return list(csv.DictReader(lines[1:], delimiter="\t"))


# ---------------------------------------------------------------- the machine

def is_root():
    return os.geteuid() == 0


def swaps():
    """Active swap devices, as /proc/swaps lists them."""
    lines = Path("/proc/swaps").read_text().splitlines()[1:]
    return [l.split()[0] for l in lines if l.strip()]


def kernel_at_least(major, minor):
    rel = platform.release().split(".")
    return (int(rel[0]), int(re.match(r"\d+", rel[1]).group())) >= (major, minor)


def free_pid():
    """A pid no process has right now."""
    limit = int(Path("/proc/sys/kernel/pid_max").read_text())
    for pid in range(limit - 1, 1, -1):
        if not Path(f"/proc/{pid}").exists():
            return pid
    raise AssertionError("no free pid")


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def gone(pid):
    """Exited (or a zombie)."""
    try:
        return proc_stat(pid)[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(cond, what, timeout=TIMEOUT):
    """Poll cond() until it is true; fail naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)


def smaps_vma(pid, addr):
    """The kB fields of the VMA starting at addr, from /proc/PID/smaps."""
    out, in_vma = {}, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        m = re.match(r"^([0-9a-f]+)-[0-9a-f]+ ", line)
        if m:
            if in_vma:
                break
            in_vma = int(m.group(1), 16) == addr
        elif in_vma:
            k, v = line.split(":", 1)
            if v.strip().endswith(" kB"):
                out[k] = int(v.split()[0])
    assert out, f"no VMA at {addr:#x} in /proc/{pid}/smaps"
    return out


def smaps_swap_kb(pid, addr):
    return smaps_vma(pid, addr)["Swap"]


def pagemap(pid, addr, pages):
    """The raw 64-bit pagemap entries of pages pages from addr."""
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(addr // PAGE * 8)
        raw = f.read(pages * 8)
    assert len(raw) == pages * 8
    return struct.unpack(f"{pages}Q", raw)


def data_pages(path, pages):
    """Pages of a file that SEEK_DATA/SEEK_HOLE call data."""
    out = set()
    fd = os.open(path, os.O_RDONLY)
    try:
        off = 0
        while off < pages * PAGE:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:      # no data after off
                    break
                raise
            h = os.lseek(fd, d, os.SEEK_HOLE)
            out.update(range(d // PAGE, min(pages, -(-h // PAGE))))
            off = h
    finally:
        os.close(fd)
    return out


def sysv_segments(cpid):
    """The /proc/sysvipc/shm rows of the segments process cpid created."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()
    col = rows[0].split().index("cpid")
    return [r for r in rows[1:] if int(r.split()[col]) == cpid]


def sysv_swap_bytes(cpid):
    """The swap column of the one segment cpid created."""
    head = Path("/proc/sysvipc/shm").read_text().splitlines()[0].split()
    (row,) = sysv_segments(cpid)
    return int(row.split()[head.index("swap")])


def machine_state():
    """What a pmbench run could leave behind: swap, configured zram, its cgroups, its processes."""
    zram = []
    for p in Path("/sys/block").glob("zram*"):
        try:
            if (p / "disksize").read_text().strip() != "0":
                zram.append(p.name)
        except FileNotFoundError:       # hot-removed meanwhile
            pass
    cgs = []
    for top in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.isdir(top):
            cgs += [d for d in os.listdir(top) if d.startswith("pagemap-bench")]
    procs = [p for p in subprocess.run(["pgrep", "-x", "pmwork|pmscan"], capture_output=True,
                                       text=True, timeout=TIMEOUT).stdout.split()
             if not gone(p)]    # a zombie holds nothing; PID 1 here may reap it late
    return {"swaps": swaps(), "zram": sorted(zram), "cgroups": sorted(cgs), "procs": procs}


def left_behind(before):
    """What exists now that did not before (what an earlier test left may go away meanwhile)."""
    now = machine_state()
    return {k: sorted(set(now[k]) - set(before[k])) for k in now if set(now[k]) - set(before[k])}


# A seccomp filter that fails one system call (optionally only for one value of its
# second argument) with an errno: how a test meets a kernel that lacks something.
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYS_IOCTL = {"x86_64": 16, "aarch64": 29}.get(platform.machine())
SYS_IO_URING_SETUP = 425


def seccomp_fail(nr, err, arg1=None):
    """A preexec_fn for subprocess: the child sees system call nr fail with err."""
    arch = _AUDIT_ARCH.get(platform.machine())
    if arch is None:
        import pytest
        pytest.skip(f"no seccomp filter written for {platform.machine()}")

    def insn(code, k, jt=0, jf=0):
        return struct.pack("=HBBI", code, jt, jf, k)
    LD, JEQ, RET = 0x20, 0x15, 0x06
    ALLOW, ERRNO = 0x7FFF0000, 0x00050000
    prog = [insn(LD, 4), insn(JEQ, arch, 1, 0), insn(RET, ALLOW),
            insn(LD, 0), insn(JEQ, nr, 1, 0) if arg1 is None else insn(JEQ, nr, 0, 2)]
    if arg1 is not None:
        prog += [insn(LD, 24), insn(JEQ, arg1 & 0xFFFFFFFF, 1, 0)]
    prog += [insn(RET, ALLOW), insn(RET, ERRNO | err)]
    code = b"".join(prog)

    def install():
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(code, len(code))

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        fprog = SockFprog(len(code) // 8, ctypes.addressof(buf))
        if libc.prctl(38, 1, 0, 0, 0) != 0:                     # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:   # PR_SET_SECCOMP, FILTER
            raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")
    return install


# ---------------------------------------------------------------- pmscan targets

# A stopped child holding a region of one kind: writes the touched pages, pages out
# the listed ones (again, for up to 30 s, until pagemap shows none of them present: a
# page still in a per-CPU LRU batch is skipped by one pass), optionally splits the region into VMAs
# with mprotect, prints the region's address and stops itself.
TARGET_CHILD = r"""
import ctypes, mmap, os, signal, struct, sys, time
kind, pages = sys.argv[1], int(sys.argv[2])
ints = lambda s: [int(x) for x in s.split(",") if x]
touch, pageout = ints(sys.argv[3]), ints(sys.argv[4])
protect = [tuple(map(int, x.split("-"))) for x in sys.argv[5].split(",") if x]
size = pages * mmap.PAGESIZE
if kind == "private-anon":
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
elif kind == "shared-anon":
    m = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
elif kind == "memfd":
    fd = os.memfd_create("pmscan-test")
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
else:
    sys.exit("unknown kind " + kind)
m.madvise(mmap.MADV_NOHUGEPAGE)
base = ctypes.addressof(ctypes.c_char.from_buffer(m))
for i in touch:
    m[i * mmap.PAGESIZE] = 0x5a
pm = open("/proc/self/pagemap", "rb", buffering=0)
def present(i):
    pm.seek((base // mmap.PAGESIZE + i) * 8)
    return struct.unpack("Q", pm.read(8))[0] >> 63
left, deadline = pageout, time.monotonic() + 30
while left and time.monotonic() < deadline:
    for i in left:
        m.madvise(getattr(mmap, "MADV_PAGEOUT", 21), i * mmap.PAGESIZE, mmap.PAGESIZE)
    left = [i for i in left if present(i)]
libc = ctypes.CDLL(None, use_errno=True)
for a, b in protect:
    if libc.mprotect(ctypes.c_void_p(base + a * mmap.PAGESIZE),
                     ctypes.c_size_t((b - a) * mmap.PAGESIZE), 1):
        sys.exit("mprotect failed")
print(hex(base), len(left), flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""
TARGET_KINDS = ("private-anon", "shared-anon", "memfd")


class Target:
    """A stopped child holding `pages` pages of `kind`, `touch` of them written and
    `pageout` of those paged out; `protect` [(a, b)] pages made read-only (new VMAs)."""

    def __init__(self, kind, pages, touch=(), pageout=(), protect=()):
        assert kind in TARGET_KINDS and kind in KINDS, kind
        self.kind, self.pages, self.touch = kind, pages, sorted(set(touch))
        self.pageout = sorted(set(pageout))
        args = [sys.executable, "-c", TARGET_CHILD, kind, str(pages),
                ",".join(map(str, self.touch)), ",".join(map(str, self.pageout)),
                ",".join(f"{a}-{b}" for a, b in protect)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        try:
            line = self.proc.stdout.readline().split()
            assert len(line) == 2 and line[0].startswith("0x"), f"target printed {line!r}"
            self.addr = int(line[0], 16)
            assert line[1] == "0", f"MADV_PAGEOUT left {line[1]} of {len(pageout)} pages present"
            wait_until(lambda: proc_stat(self.pid)[0] in ("T", "t"), "the target stopping")
        except BaseException:
            self.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def args(self, first=0, pages=None):
        """pmscan's --pid/--addr/--pages for the region (or pages of it from first)."""
        pages = self.pages - first if pages is None else pages
        return ["--pid", str(self.pid), "--addr", hex(self.addr + first * PAGE),
                "--pages", str(pages)]

    def states(self, first=0, pages=None):
        """The true state of each page, as --classify gives it."""
        pages = self.pages - first if pages is None else pages
        out, touch = set(self.pageout), set(self.touch)
        return bytes(SWAPPED if i in out else PRESENT if i in touch else NONE
                     for i in range(first, first + pages))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        self.proc.stdout.close()


# A target that never stops: pinned to one CPU, at the highest CFS weight so that a
# busy machine cannot starve it, it faults every page in and drops them all, again and again.
CHURN_CHILD = r"""
import ctypes, mmap, os, sys
pages = int(sys.argv[1])
os.sched_setaffinity(0, {int(sys.argv[2])})
try:
    os.setpriority(os.PRIO_PROCESS, 0, -20)
except PermissionError:
    pass
m = mmap.mmap(-1, pages * mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
print(hex(ctypes.addressof(ctypes.c_char.from_buffer(m))), flush=True)
while True:
    for i in range(pages):
        m[i * mmap.PAGESIZE] = 1
    m.madvise(mmap.MADV_DONTNEED)
"""


class Churn:
    """A context manager: the running CHURN_CHILD; .args() as Target.args()."""

    def __init__(self, pages, cpu):
        self.pages, self.cpu = pages, cpu

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", CHURN_CHILD, str(self.pages),
                                      str(self.cpu)], stdout=subprocess.PIPE, text=True)
        self.addr = int(self.proc.stdout.readline().strip(), 16)
        return self

    def args(self):
        return ["--pid", str(self.proc.pid), "--addr", hex(self.addr), "--pages",
                str(self.pages)]

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        self.proc.stdout.close()


SAMPLE_COLUMNS = ["method", "batch", "qd", "round", "warmup", "entries", "reads", "ns",
                  "pmd_pos"]
AGREE_KEYS = ["none", "present", "swapped", "file", "soft_dirty", "exclusive", "compare"]


def parse_samples(out):
    """pmscan's timed output: the header, then one row per sample."""
    lines = out.splitlines()
    assert lines[0] == "# pagemap-bench pmscan v1"
    assert lines[1].split("\t") == SAMPLE_COLUMNS
    rows = []
    for line in lines[2:]:
        f = line.split("\t")
        assert len(f) == len(SAMPLE_COLUMNS), line
        rows.append(dict(zip(SAMPLE_COLUMNS, [f[0]] + [int(x) for x in f[1:]])))
    return rows


def parse_agree(out):
    """pmscan --agree's lines: spec -> counts, with the method's compare mode as "compare"."""
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        assert f[0] == "agree", line
        kv = [x.split("=", 1) for x in f[2:]]
        assert [k for k, _ in kv] == AGREE_KEYS, line
        res[f[1]] = {k: (v if k == "compare" else int(v)) for k, v in kv}
        assert res[f[1]]["compare"] == method_of(f[1]).compare, line
    return res


def states(counts):
    return counts["none"], counts["present"], counts["swapped"]


def timed(binary, target_args, specs, warmup=2, rounds=3, sparse_reads=5, seed=1, **kw):
    """pmscan's timed mode; asserts it passed and returns its rows."""
    argv = [*target_args, "--warmup", warmup, "--rounds", rounds, "--sparse-reads",
            sparse_reads, "--seed", seed]
    for s in specs:
        argv += ["--method", s]
    for k, v in kw.items():
        argv += ["--" + k, v]
    r = run(binary, *argv)
    assert r.returncode == EXIT_PASS, r.stderr
    return parse_samples(r.stdout)


def agree(binary, target_args, specs, **kw):
    argv = [*target_args, "--agree"]
    for s in specs:
        argv += ["--method", s]
    return run(binary, *argv, **kw)


def classify(binary, target_args, spec):
    r = subprocess.run([str(binary), *target_args, "--classify", spec], capture_output=True,
                       timeout=TIMEOUT)
    assert r.returncode == EXIT_PASS, r.stderr
    return r.stdout


# ---------------------------------------------------------------- pmwork children

def protocol_fields(line):
    """The KEY=VALUE fields of a READY/STATE/SWAPIN line; integers where they are."""
    out = {}
    for tok in line.split()[1:]:
        k, v = tok.split("=", 1)
        try:
            out[k] = int(v, 0)
        except ValueError:
            out[k] = v
    return out


def counts(st):
    return st["none"], st["present"], st["swapped"]


class Work:
    """One pmwork child, spoken to through its READY/STATE/EXIT protocol (docs/workloads.md)."""

    def __init__(self, binary, *args, preexec_fn=None):
        self.p = subprocess.Popen([str(binary), *map(str, args)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  preexec_fn=preexec_fn)
        self.ready = None

    def wait_stopped(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.p.pid, os.WUNTRACED | os.WNOHANG)
            if pid:
                if os.WIFSTOPPED(status):
                    return
                self.p.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"pmwork exited {self.p.returncode}: "
                                     f"{self.p.stderr.read().decode()}")
            time.sleep(0.01)
        raise AssertionError("pmwork did not stop")

    def start(self, exact=True):
        """The READY line's fields, once pmwork has stopped; a SKIP line skips the test.
        With exact, a pageout that missed chosen pages raises PageoutMissed."""
        import pytest
        line = self.p.stdout.readline().decode()
        if line.startswith("SKIP "):
            assert self.p.wait(TIMEOUT) == EXIT_SKIP
            pytest.skip(line[5:].strip())
        assert line.startswith("READY "), (line, self.p.stderr.read1().decode())
        self.wait_stopped()
        self.ready = protocol_fields(line)
        if exact and self.ready.get("pageout_missed"):
            # what the oracle reports still adds up; only the kernel skipped pages
            assert self.ready["contradictions"] == 0 and self.ready["pageout_extra"] == 0, \
                self.ready
            raise PageoutMissed(f"READY {self.ready}")
        return self.ready

    def send(self, line):
        os.kill(self.p.pid, signal.SIGCONT)
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def cmd(self, name):
        """A command answered like STATE: (its own line's fields or None, STATE's, vector)."""
        self.send(name)
        extra = None
        line = self.p.stdout.readline().decode()
        if not line.startswith("STATE "):
            extra = line
            line = self.p.stdout.readline().decode()
        assert line.startswith("STATE "), (name, extra, line)
        vec = self.p.stdout.read(self.ready["pages"])
        assert len(vec) == self.ready["pages"]
        self.wait_stopped()
        return (protocol_fields(extra) if extra else None), protocol_fields(line), vec

    def state(self):
        _, st, vec = self.cmd("STATE")
        return st, vec

    def exit(self):
        self.send("EXIT")
        return self.p.wait(TIMEOUT)

    def kill(self):
        if self.p.returncode is None:
            try:
                self.p.kill()
                os.kill(self.p.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.p.wait(TIMEOUT)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            f.close()


class PageoutMissed(Exception):
    """MADV_PAGEOUT left chosen pages in memory after pmwork's passes: on a busy machine a
    page can sit in another CPU's LRU batch, which one pass skips, or stay unmapped in the
    page cache when its reclaim did not finish."""


def retry_missed(attempt, timeout=TIMEOUT):
    """attempt() again (a new workload each time) while it raises PageoutMissed, for up to
    timeout seconds: a time bound, not a count, so that load cannot make a test fail."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except PageoutMissed as e:
            if time.monotonic() > deadline:
                raise AssertionError(f"MADV_PAGEOUT kept missing pages for {timeout} s: {e}")
            print(f"pageout missed pages, again: {e}")


def start_exact(make):
    """make() -> an unstarted Work; returns it started, with every chosen page paged out
    (a new workload while pageout misses pages, retry_missed).  The caller kills it."""
    def attempt():
        w = make()
        try:
            w.start()
        except BaseException:
            w.kill()
            raise
        return w
    return retry_missed(attempt)


def check_pageout(st, want):
    """STATE's counts after a PAGEOUT step are `want` (none, present, swapped), or short of
    it only by chosen pages still in memory (PageoutMissed): still mapped (present), or
    unmapped by reclaim but not yet freed (unmapped; the oracle marks no other page so)."""
    got = counts(st)
    left = got[1] - want[1] + st["unmapped"]
    if left > 0 and got[1] >= want[1] and got[0] <= want[0] and got[2] <= want[2] \
            and (want[0] - got[0]) + (want[2] - got[2]) == left:
        raise PageoutMissed(f"STATE {st}, wanted {want}")
    assert got == want and st["unmapped"] == 0, (st, want)


def work(binary, kind, pages, **opts):
    """A Work for --kind KIND --pages N and --OPT VALUE for each keyword."""
    args = ["--kind", kind, "--pages", str(pages)]
    for k, v in opts.items():
        args += [f"--{k}", str(v)]
    return Work(binary, *args)


def positions(vec, state):
    return [i for i, s in enumerate(vec) if s == state]


# pmwork's layout rule (docs/workloads.md), in Python.
def pct_of(n, pct):
    return int(n * pct / 100 + 0.5)


def choose(layout, n, k):
    """The k of n positions a layout picks; None for random (seeded in C)."""
    if layout == "contiguous":
        return list(range(k))
    if layout == "strided":
        return [j * n // k for j in range(k)]
    return None


def dirty_set(layout, n, dirty):
    return choose(layout, n, pct_of(n, dirty))


def swapped_set(layout, dirtied, swapped):
    pos = choose(layout, len(dirtied), pct_of(len(dirtied), swapped))
    return None if pos is None else [dirtied[j] for j in pos]


def map_files_path(pid, addr, pages):
    return f"/proc/{pid}/map_files/{addr:x}-{addr + pages * PAGE:x}"


def region_swap_kb(w, kind):
    """Swap of a pmwork region as smaps accounts it (for SysV also /proc/sysvipc/shm)."""
    kb = smaps_swap_kb(w.p.pid, w.ready["addr"])
    if kind == "sysv-shm":
        assert sysv_swap_bytes(w.p.pid) // 1024 == kb
    return kb


def thp_mounts():
    """The private huge tmpfs mounts of thp-shmem that are still mounted."""
    return [l for l in Path("/proc/self/mountinfo").read_text().splitlines()
            if "pmwork-thp" in l]


def thp_dirs():
    return sorted(p.name for p in Path("/tmp").glob("pmwork-thp-*"))
