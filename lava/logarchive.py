#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Take run directories back out of a LAVA job log.

lava/pagemap-bench.yaml prints each run directory the guest made as

    PMB-ARCHIVE-BEGIN v1 name=<run-id> bytes=<n> sha256=<hex>
    <the directory as a tar.gz, in base64 lines>
    PMB-ARCHIVE-END v1 name=<run-id>

    logarchive.py extract --log FILE --out DIR [--job-json JSON]

FILE is a LAVA job log as `lavacli jobs logs --raw` prints it (YAML, one
entry per line) or plain console text.  Every archive is checked before
anything is written: the frame is complete, every line in it is base64, the
decoded length and sha256 are the announced ones, and the tar holds nothing
but regular files and directories under <run-id>/.  Only then is each
directory unpacked into a temporary directory inside DIR, given console.log
(the target's console lines, without the archive) and lava-job.json (the
--job-json text), and renamed to DIR/<run-id>: it appears whole or not at
all.  A run directory that already exists is never overwritten.

Prints the run directories' paths, one per line.  Exit 0; 3 for a truncated,
corrupt or unsafe transfer, an existing run directory or no archive at all
(one line on stderr); 64 for bad options.
"""
import base64
import binascii
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zlib

PROG = "lava fetch"
EX_ERROR, EX_USAGE = 3, 64
MAX_BYTES = 1 << 30          # one archive, compressed
MAX_UNPACKED = 8 << 30       # one run directory, unpacked
MAX_MEMBERS = 100000

BEGIN = re.compile(r"^PMB-ARCHIVE-BEGIN v1 name=([A-Za-z0-9][A-Za-z0-9._+-]{0,200}) "
                   r"bytes=([0-9]{1,12}) sha256=([0-9a-f]{64})$")
END = re.compile(r"^PMB-ARCHIVE-END v1 name=(\S+)$")
B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class TransferError(Exception):
    pass


def fail(msg, code=EX_ERROR):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def console_lines(path):
    """The target's console lines of a LAVA log (or every line of plain text)."""
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", errors="replace")
    entries = None
    if text.lstrip().startswith("- "):
        try:
            import yaml
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            entries = yaml.load(text, Loader=loader)
        except Exception:       # not YAML after all: treat it as console text
            entries = None
    if not isinstance(entries, list):
        return [line.rstrip("\r") for line in text.split("\n")]
    lines = []
    for e in entries:
        if isinstance(e, dict) and e.get("lvl") == "target" and isinstance(e.get("msg"), str):
            # A message may carry more than one line, and the serial line's CRs.
            lines.extend(part.rstrip("\r") for part in e["msg"].split("\n"))
    return lines


def find_archives(lines):
    """[(name, data)] for every frame; raises TransferError on any flaw."""
    out, names = [], set()
    i, n = 0, len(lines)
    while i < n:
        m = BEGIN.match(lines[i].strip())
        if not m:
            if lines[i].strip().startswith("PMB-ARCHIVE-BEGIN"):
                raise TransferError(f"malformed archive header: {lines[i].strip()[:120]!r}")
            i += 1
            continue
        name, size, digest = m.group(1), int(m.group(2)), m.group(3)
        if name in names:
            raise TransferError(f"archive {name} appears twice in the log")
        names.add(name)
        if size > MAX_BYTES:
            raise TransferError(f"archive {name}: {size} bytes is more than the {MAX_BYTES} allowed")
        chunks, j = [], i + 1
        while True:
            if j >= n:
                raise TransferError(f"archive {name} is truncated: no end marker")
            line = lines[j].strip()
            e = END.match(line)
            if e:
                if e.group(1) != name:
                    raise TransferError(f"archive {name} ends with the marker of {e.group(1)}")
                break
            if not B64.match(line):
                raise TransferError(f"archive {name}: line {j + 1} of the console is not base64: "
                                    f"{line[:60]!r}")
            chunks.append(line)
            j += 1
        try:
            data = base64.b64decode("".join(chunks), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TransferError(f"archive {name}: bad base64 ({exc})") from None
        if len(data) != size:
            raise TransferError(f"archive {name}: {len(data)} bytes received, {size} announced")
        got = hashlib.sha256(data).hexdigest()
        if got != digest:
            raise TransferError(f"archive {name}: sha256 {got[:16]}... is not the announced "
                                f"{digest[:16]}...")
        out.append((name, data))
        i = j + 1
    return out


def check_members(name, tf):
    """The tar holds only regular files and directories under name/."""
    members, total = [], 0
    for m in tf:
        if len(members) >= MAX_MEMBERS:
            raise TransferError(f"archive {name}: more than {MAX_MEMBERS} entries")
        path = m.name.rstrip("/")
        while path.startswith("./"):
            path = path[2:]
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] != name:
            raise TransferError(f"archive {name}: entry {m.name!r} is not inside {name}/")
        if not (m.isfile() or m.isdir()):
            raise TransferError(f"archive {name}: entry {m.name!r} is not a file or directory")
        total += m.size
        if total > MAX_UNPACKED:
            raise TransferError(f"archive {name}: unpacks to more than {MAX_UNPACKED} bytes")
        members.append((path, m))
    if not members:
        raise TransferError(f"archive {name}: empty")
    return members


def unpack(name, data, dest):
    """Unpack into dest (a new, empty directory): dest/name/..."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            members = check_members(name, tf)
            for path, m in members:
                target = os.path.join(dest, path)
                if m.isdir():
                    os.makedirs(target, mode=0o755, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                src = tf.extractfile(m)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise TransferError(f"archive {name}: cannot unpack ({exc})") from None
    root = os.path.join(dest, name)
    if not os.path.isdir(root):
        raise TransferError(f"archive {name}: holds no directory {name}/")
    return root


def main(argv):
    log = out = job_json = None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a in ("--log", "--out", "--job-json") and args:
            v = args.pop(0)
            if a == "--log":
                log = v
            elif a == "--out":
                out = v
            else:
                job_json = v
        elif a == "extract" and log is None and out is None:
            continue
        else:
            fail(f"unknown or incomplete argument '{a}'", EX_USAGE)
    if not log or not out:
        fail("--log FILE and --out DIR are required", EX_USAGE)
    if job_json is not None:
        try:
            json.loads(job_json)
        except ValueError:
            fail("--job-json is not JSON", EX_USAGE)
    try:
        lines = console_lines(log)
    except OSError as exc:
        fail(f"cannot read the log {log}: {exc.strerror}")
    try:
        archives = find_archives(lines)
    except TransferError as exc:
        fail(f"{exc}; nothing was written")
    if not archives:
        fail("no run directory in the log (no PMB-ARCHIVE-BEGIN line); nothing was written")
    os.makedirs(out, exist_ok=True)
    out = os.path.realpath(out)
    for name, _ in archives:
        if os.path.lexists(os.path.join(out, name)):
            fail(f"run directory {os.path.join(out, name)} already exists (never overwritten); "
                 "nothing was written")
    console = "".join(l + "\n" for l in strip_archives(lines))
    tmp = tempfile.mkdtemp(prefix=".lava-fetch-", dir=out)
    done = []
    try:
        staged = []
        for name, data in archives:
            root = unpack(name, data, tmp)
            try:
                write_extras(root, console, job_json)
            except OSError as exc:
                raise TransferError(f"cannot write into {root}: {exc.strerror}") from None
            staged.append((name, root))
        for name, root in staged:
            final = os.path.join(out, name)
            # rename(2) onto a name that appeared meanwhile fails for a non-empty
            # directory only: check again right before.
            if os.path.lexists(final):
                raise TransferError(f"run directory {final} appeared meanwhile (never overwritten)")
            try:
                os.rename(root, final)
            except OSError as exc:
                raise TransferError(f"cannot move {name} into {out}: {exc.strerror}") from None
            done.append(final)
    except TransferError as exc:
        for d in done:
            shutil.rmtree(d, ignore_errors=True)
        fail(f"{exc}; nothing was written")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for d in done:
        print(d)
    return 0


def write_extras(root, console, job_json):
    """console.log (as kernels/vm.sh adds it) and lava-job.json."""
    with open(os.path.join(root, "console.log"), "w", encoding="utf-8") as f:
        f.write(console)
    if job_json is not None:
        with open(os.path.join(root, "lava-job.json"), "w", encoding="utf-8") as f:
            f.write(job_json.rstrip("\n") + "\n")


def strip_archives(lines):
    """The console without the archives' base64 lines (the markers stay)."""
    inside = False
    for line in lines:
        s = line.strip()
        if BEGIN.match(s):
            inside = True
            yield line
        elif inside and END.match(s):
            inside = False
            yield line
        elif not inside:
            yield line


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
