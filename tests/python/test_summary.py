"""`python -m amorsize summary` prints what `amorsize report` prints, byte for byte:
on the committed profiles (against the CLI's golden files) and on the profiles the
suite just wrote (against the built tool itself). The same for `compare`."""
import os
import subprocess
import sys

import pytest

from conftest import DATA, GOLDEN, ROOT

PY = [sys.executable, "-m", "amorsize"]
ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src", "python"))


def run(args, cwd=None):
    return subprocess.run(PY + args, cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("name", ["mpi2", "threads"])
def test_summary_matches_golden_report(name):
    r = run(["summary", f"{name}.h5"], cwd=DATA)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(GOLDEN, f"report_{name}.txt")) as f:
        assert r.stdout == f.read()


def test_compare_matches_golden():
    r = run(["compare", "threads.h5", "mpi2.h5"], cwd=DATA)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(GOLDEN, "compare.text")) as f:
        assert r.stdout == f.read()


def test_summary_matches_the_built_cli(cli, fresh):
    for name, path in sorted(fresh.items()):
        c = subprocess.run([cli, "report", path], capture_output=True, text=True, timeout=120)
        assert c.returncode == 0, c.stderr
        r = run(["summary", path])
        assert r.returncode == 0, r.stderr
        assert r.stdout == c.stdout, f"{name}: python and C reports differ"
    paths = [fresh[n] for n in sorted(fresh)]
    c = subprocess.run([cli, "compare", *paths], capture_output=True, text=True, timeout=120)
    assert run(["compare", *paths]).stdout == c.stdout


def test_findings_csv():
    r = run(["findings", "mpi2.h5"], cwd=DATA)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "kind,severity,share,value,text"
    assert lines[1].startswith("failures,HIGH,")
    assert len(lines) == 5  # the four bottlenecks of report_mpi2.txt


def test_compare_csv_and_json():
    r = run(["compare", "--format", "csv", "threads.h5", "mpi2.h5"], cwd=DATA)
    assert r.returncode == 0 and r.stdout.startswith("file,task,")
    assert len(r.stdout.splitlines()) == 3
    import json
    r = run(["compare", "--format", "json", "threads.h5", "mpi2.h5"], cwd=DATA)
    rows = json.loads(r.stdout)
    assert [x["file"] for x in rows] == ["threads.h5", "mpi2.h5"]


def test_exit_codes(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\0" * 1000)
    r = run(["summary", str(bad)])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"amorsize: {bad}: not an Amorsize profile (unknown first bytes)\n"
    assert run(["summary"]).returncode == 64
    assert run(["nonsense", "x.h5"]).returncode == 64
    assert run(["compare", os.path.join(DATA, "mpi2.h5")]).returncode == 64
    assert run(["--version"]).stdout.startswith("amorsize (Python) ")


def test_same_error_line_as_the_cli(cli, tmp_path):
    for content in (b"", b"AMORSIZE-PROFILE\nschema 1\n", b"\x89HDF\r\n\x1a\n" + b"\0" * 600):
        bad = tmp_path / "bad.h5"
        bad.write_bytes(content)
        c = subprocess.run([cli, "report", str(bad)], capture_output=True, text=True)
        r = run(["summary", str(bad)])
        assert (r.returncode, r.stderr) == (c.returncode, c.stderr)
