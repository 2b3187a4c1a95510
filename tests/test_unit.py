"""Runs every C unit test (tests/unit/*.c, built with ASan+UBSan) and checks its
report (tests/unit/check.h): numbered `ok N - ...` lines, none `not ok`, and a
closing `# N checks, 0 failed` that counts them all."""
import re
from pathlib import Path

import pytest

from helpers import run

UNIT_SRC = sorted(p.stem for p in (Path(__file__).parent / "unit").glob("*.c"))


@pytest.mark.parametrize("name", UNIT_SRC)
def test_unit(asan_bins, name):
    binary = asan_bins / "unit" / name
    assert binary.exists(), f"{binary} was not built"
    r = run(binary, timeout=120)
    lines = r.stdout.splitlines()
    failed = [l for l in lines if l.startswith("not ok")]
    assert r.returncode == 0 and not failed, "\n".join(failed) + r.stderr
    # Every check printed its line, numbered from 1, and the summary counts them all:
    # a test that stopped early or ran no checks cannot pass.
    checks = [int(m.group(1)) for m in map(re.compile(r"^ok (\d+) - ").match, lines) if m]
    assert checks and checks == list(range(1, len(checks) + 1)), r.stdout[-2000:]
    assert lines[-1] == f"# {len(checks)} checks, 0 failed", lines[-1]
    # Sanitizer reports go to stderr even when they do not stop the program.
    assert "runtime error" not in r.stderr and "Sanitizer" not in r.stderr, r.stderr


def test_there_are_unit_tests():
    """An empty parametrization above would only be reported as a skip."""
    assert UNIT_SRC, "no tests/unit/*.c"
