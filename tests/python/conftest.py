"""Fixtures of the Python reader's tests.

Profiles come from two places: the schema-1 files committed under tests/cli/data
(always there) and, under CTest, the profiles that the suite's own runs just wrote
(AMZ_TEST_PROFILES, a directory with mpi2.h5, mpi2big.h5, threads.h5 and slurm.h5).
AMZ_CLI is the built `amorsize` tool, used to check that the Python summary and the
C report agree. Tests that need what is not given are skipped, and say why.
"""
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "src", "python"))

DATA = os.path.join(ROOT, "tests", "cli", "data")
GOLDEN = os.path.join(ROOT, "tests", "cli", "golden")
COMMITTED = [os.path.join(DATA, f) for f in ("mpi2.h5", "threads.h5")]
FRESH_NAMES = ("mpi2.h5", "mpi2big.h5", "threads.h5", "slurm.h5", "threads_slow.h5",
               "threads_static.h5")


def fresh_profiles():
    d = os.environ.get("AMZ_TEST_PROFILES")
    if not d:
        return []
    return [os.path.join(d, f) for f in FRESH_NAMES if os.path.exists(os.path.join(d, f))]


def all_profiles():
    return COMMITTED + fresh_profiles()


def profile_ids(paths):
    return [("fresh/" if not p.startswith(DATA) else "committed/") + os.path.basename(p)
            for p in paths]


@pytest.fixture
def cli():
    path = os.environ.get("AMZ_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("AMZ_CLI (the built amorsize tool) is not set: run through ctest")
    return path


@pytest.fixture
def fresh():
    paths = fresh_profiles()
    if len(paths) != len(FRESH_NAMES):
        pytest.skip("AMZ_TEST_PROFILES (profiles the suite writes) is not set or incomplete: "
                    "run through ctest")
    return {os.path.basename(p): p for p in paths}


def reseal(path):
    """Writes a valid seal over `path` (as the library does after writing): the
    crafted file then passes the CRC and reaches h5py and the field checks."""
    from amorsize._seal import seal
    seal(path)


@pytest.fixture
def good(tmp_path):
    """A private copy of a committed profile, to damage."""
    dst = tmp_path / "good.h5"
    shutil.copyfile(os.path.join(DATA, "mpi2.h5"), dst)
    return str(dst)
