"""Runs every C unit test (tests/unit/*.c, built with ASan+UBSan) and asserts it passes."""
import subprocess
from pathlib import Path

import pytest

UNIT_SRC = sorted(p.stem for p in (Path(__file__).parent / "unit").glob("*.c"))


@pytest.mark.parametrize("name", UNIT_SRC)
def test_unit(asan_bins, name):
    binary = asan_bins / "unit" / name
    assert binary.exists(), f"{binary} was not built"
    r = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    failed = [l for l in r.stdout.splitlines() if l.startswith("not ok")]
    assert r.returncode == 0, "\n".join(failed) + r.stderr
    assert not failed
