"""Runs pytest on the given test files for CTest, with exit codes that CTest reads.

    /usr/bin/python3 tests/python/run.py test_reader.py [...]

0 when tests ran and passed; 1 when any failed or none was collected (pytest's 5);
77 (skipped) when pytest, h5py, numpy or pandas cannot be imported, or when every
test skipped itself; each with a line that says why.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

try:
    import h5py  # noqa: F401  (imported to check that it is there)
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pytest
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import {e.name} (Debian: python3-pytest, "
          "python3-h5py, python3-pandas; scripts/test.sh installs them)")
    sys.exit(SKIP)


class Outcomes:
    def __init__(self):
        self.passed = self.skipped = self.failed = 0

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.passed:
            self.passed += 1
        elif report.failed:
            self.failed += 1
        elif report.skipped:
            self.skipped += 1


def main(argv):
    files = [a if os.path.isabs(a) else os.path.join(HERE, a) for a in argv] or [HERE]
    os.environ.setdefault("MPLBACKEND", "Agg")
    out = Outcomes()
    rc = pytest.main(["-q", "-rs", "-p", "no:cacheprovider", *files], plugins=[out])
    if rc == 5:
        print("FAIL: no test was collected")
        return 1
    if rc == 0 and out.passed == 0 and out.skipped > 0:
        print("SKIP: every test skipped itself (see the reasons above)")
        return SKIP
    return int(rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
