"""What a person at a terminal meets: the man page made from the same tables as
--help, shell completion that asks the programs themselves, and progress lines
with an ETA on a terminal (plain lines otherwise)."""
import os
import re
import shutil
import subprocess

import pytest

from helpers import ROOT, EXIT_PASS, run


SUBCOMMANDS = ["catalog", "cleanup", "compare", "gate", "merge", "plot", "run", "selfcheck", "verify"]


def test_man_page_renders_and_holds_every_option(pmb, tmp_path):
    page = run(pmb, "man").stdout
    assert page.startswith(".TH PMBENCH 1")
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", "-"], input=page, capture_output=True, text=True,
                           env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": "0"})
        assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
        text = re.sub(".\x08", "", r.stdout)     # bold and underline by overstriking
    else:
        text = page.replace("\\-", "-")
    plain = text.replace("\u2010", "-").replace("\u2212", "-")
    for sub in SUBCOMMANDS:
        assert f"pmbench {sub}" in plain, sub
        helptext = run(pmb, sub, "--help").stdout
        for opt in set(re.findall(r"--[a-z0-9-]+", helptext)) - {"--help"}:
            assert opt in plain, (sub, opt)


def complete(*words):
    """The completions bash offers for the last word."""
    script = (f'. {ROOT}/lib/completion.bash; COMP_WORDS=({" ".join(repr(w) for w in words)}); '
              f'COMP_CWORD={len(words) - 1}; _pagemap_bench; printf "%s\\n" "${{COMPREPLY[@]}}"')
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_completion_asks_the_programs(bins):
    subs = complete("./run.sh", "")
    assert {"run", "verify", "compare", "gate", "plot", "kernel", "vm", "ab", "cleanup", "test"} <= subs
    assert complete("./run.sh", "run", "--ki") == {"--kinds"}
    assert "--noise-floor" in complete("./run.sh", "gate", "--")
    assert "--order" in complete("./run.sh", "ab", "--")
    kinds = complete("./run.sh", "run", "--kinds", "")
    assert {"memfd", "shared-anon", "private-anon"} <= kinds
    methods = complete("./run.sh", "run", "--methods", "")
    assert "dense" in methods and "swapin" not in methods   # a co-metric is no method to ask for


def test_progress_is_plain_without_a_terminal_and_rewritten_on_one(bins, root, tmp_path):
    args = [str(bins / "pmbench"), "run", "--results", str(tmp_path), "--kinds", "private-anon",
            "--swapout", "none", "--size", "1M", "--dirty", "0,100", "--rounds", "2", "--series", "1",
            "--precision", "0", "--methods", "dense", "--swap", "existing"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == EXIT_PASS, r.stderr
    lines = [l for l in r.stderr.splitlines() if re.match(r"pmbench: \[\d+/2\]", l)]
    assert [l.split()[1] for l in lines] == ["[0/2]", "[1/2]", "[2/2]"], r.stderr
    assert "\r" not in r.stderr and "ETA" in lines[1]
    if not shutil.which("script"):
        pytest.skip("no script(1) to give the run a terminal")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Bytes: text mode would turn the carriage return into a newline.
    r = subprocess.run(["script", "-qec", " ".join(args), "/dev/null"], capture_output=True, env=env,
                       timeout=300)
    assert b"\r\x1b[Kpmbench: [1/2] ETA" in r.stdout, r.stdout[-500:]
