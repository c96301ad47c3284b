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


def test_slow_worker_is_named(cli, fresh):
    """The helper thread of threads_slow.h5 runs its items 3x slower: both readers
    name it, at about a third of the main thread's speed. The bounds allow for the
    suite's other tests sharing the cores (CI measured 0.80: 1/5 of the speed)."""
    import json

    import amorsize
    path = fresh["threads_slow.h5"]
    c = subprocess.run([cli, "findings", "--format", "json", path], capture_output=True,
                       text=True, timeout=120)
    assert c.returncode == 0, c.stderr
    rows = [r for r in json.loads(c.stdout) if r["kind"] == "slow worker"]
    assert len(rows) == 1, c.stdout
    assert "thread 1 ran its items at" in rows[0]["text"]
    assert 0.4 < rows[0]["value"] < 0.9, rows[0]
    df = amorsize.open(path).findings
    py = df[df["kind"] == "slow worker"]
    assert len(py) == 1 and py.iloc[0]["text"] == rows[0]["text"]


def test_static_blocks_taken(cli, fresh):
    """threads_static.h5 ran static blocks on 2 workers, the helper 3x slower: the
    main thread took items from the helper's block. Both readers count them, per
    worker and in the report's line."""
    import csv
    import io

    import amorsize
    path = fresh["threads_static.h5"]
    c = subprocess.run([cli, "workers", "--format", "csv", path], capture_output=True,
                       text=True, timeout=120)
    assert c.returncode == 0, c.stderr
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    w = amorsize.open(path).workers
    assert [int(r["taken"]) for r in rows] == [int(x) for x in w["taken"]]
    taken = int(w["taken"].sum())
    assert taken > 0 and all(w["taken"] <= w["items"])
    line = "static blocks: workers that had finished their own took %d items" % taken
    r = run(["summary", path])
    assert r.returncode == 0 and line in r.stdout, r.stdout
    rep = subprocess.run([cli, "report", path], capture_output=True, text=True, timeout=120)
    assert line in rep.stdout


def test_findings_match_the_built_cli(cli, fresh):
    """The Python findings are the C library's, as data: kind, severity, the share
    and the value (NaN where C says null), and the advice, on every fresh profile."""
    import json
    import math

    import amorsize
    for name, path in sorted(fresh.items()):
        c = subprocess.run([cli, "findings", "--format", "json", path], capture_output=True,
                           text=True, timeout=120)
        assert c.returncode == 0, c.stderr
        rows = json.loads(c.stdout)
        df = amorsize.open(path).findings
        assert list(df["kind"]) == [r["kind"] for r in rows], name
        assert list(df["severity"]) == [r["severity"] for r in rows], name
        assert list(df["text"]) == [r["text"] for r in rows], name
        for col in ("share", "value"):
            for py_v, r in zip(df[col], rows):
                if r[col] is None:
                    assert math.isnan(py_v), (name, col, r)
                else:
                    assert py_v == pytest.approx(r[col], rel=1e-8), (name, col, r)


def test_rules_are_the_c_librarys(cli):
    """The Python reader's thresholds are the C library's table, kind by kind."""
    import json

    import amorsize
    c = subprocess.run([cli, "findings", "--rules", "--format", "json"], capture_output=True,
                       text=True, timeout=60)
    assert c.returncode == 0, c.stderr
    rows = json.loads(c.stdout)
    assert [r["kind"] for r in rows] == list(amorsize.findings.RULES)
    for r in rows:
        assert (r["low"], r["medium"], r["high"]) == amorsize.findings.RULES[r["kind"]], r


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


def _variant(src, dst, schedule, scale_terms, model, root, cores=None, rank1_scale=None,
             pus_bound=None):
    import shutil

    import h5py
    import numpy as np

    from conftest import reseal
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        wall = float(f.attrs["wall_s"])

        def put(loc, name, value):  # a new value of the attribute's own type
            dt = loc.attrs.get_id(name).dtype
            del loc.attrs[name]
            loc.attrs.create(name, value, dtype=dt)
        del f.attrs["schedule"]
        f.attrs["schedule"] = np.bytes_(schedule)  # fixed-length, as the writer's
        for k, v in root.items():
            put(f, k, v)
        for k, v in model.items():
            put(f["model"], k, v)
        t = f["overheads"][:]
        for i, name in enumerate(t["term"]):
            name = name.split(b"\0")[0].decode()
            if name in scale_terms:
                t["measured_s"][i] = scale_terms[name] * wall
        f["overheads"][...] = t
        if cores is not None:
            s = f["system"][:]
            s["cores"] = cores
            f["system"][...] = s
        if pus_bound is not None:
            # The committed files predate the field: the table is written again
            # with it, as the writer now does.
            s = f["system"][:]
            if "pus_bound" not in s.dtype.names:
                names = list(s.dtype.names)
                t = np.zeros(s.shape, dtype=np.dtype({
                    "names": names + ["pus_bound"],
                    "formats": [s.dtype.fields[k][0] for k in names] + ["<i4"]}))
                for k in s.dtype.names:
                    t[k] = s[k]
                s = t
                del f["system"]
                f.create_dataset("system", data=s)
            s["pus_bound"] = pus_bound
            f["system"][...] = s
        if rank1_scale is not None:
            c = f["chunks"][:]
            sel = (c["rank"] == 1) & (c["sampled"] == 0)
            c["t_start"][sel] *= rank1_scale
            c["t_end"][sel] *= rank1_scale
            f["chunks"][...] = c
    reseal(dst)
    return dst


def test_every_rule_matches_the_cli(cli, tmp_path):
    """Crafted variants of the committed profiles fire every finding; the Python
    report is the C report on each, byte for byte."""
    import amorsize
    terms = {"startup": 0.3, "dispatch": 0.2, "imbalance": 0.3, "data": 0.4, "serial": 0.4}
    # The last field: the CPUs the bindings cover (the committed files' nodes have 2).
    variants = [
        ("mpi2.h5", "static", terms, {"contention": 1.7, "cpu_ratio": 0.3},
         {"chunks_dropped": 3, "predicted_serial_s": 5e-4}, None, 0.5, None),
        ("mpi2.h5", "guided", {"imbalance": 0.12, "dispatch": 0.06}, {"contention": 1.2},
         {"predicted_serial_s": 5e-5, "mean_item_s": 2e-6}, 1, 0.8, 1),
        ("threads.h5", "cyclic", {"imbalance": 0.06, "startup": 0.06, "data": 0.2},
         {"contention": 1.35, "cpu_ratio": 0.45}, {}, None, None, 1),
        ("threads.h5", "dynamic", {}, {}, {"predicted_s": 1e-9}, None, None, 2),
    ]
    kinds = set()
    texts = []
    for i, (src, sched, tm, model, root, cores, r1, pb) in enumerate(variants):
        path = _variant(os.path.join(DATA, src), tmp_path / f"v{i}.h5", sched, tm, model, root,
                        cores, r1, pb)
        c = subprocess.run([cli, "report", str(path)], capture_output=True, text=True,
                           timeout=120)
        assert c.returncode == 0, c.stderr
        r = run(["summary", str(path)])
        assert r.returncode == 0, r.stderr
        assert r.stdout == c.stdout, f"variant {i}: python and C reports differ"
        kinds |= set(amorsize.open(path).findings["kind"])
        texts.append(c.stdout)
    every = {"failures", "ranks", "start-up", "dispatch", "imbalance", "data movement",
             "serial part", "memory", "oversubscription", "binding", "contention",
             "too little work", "prediction", "record bound", "waiting kernel"}
    assert kinds == every, f"rules never fired: {sorted(every - kinds)}"
    # The binding finding in both wordings (ranks, a process), and not at 2 of 2 CPUs.
    assert "the ranks' bindings cover 1 of its 2 CPUs; 1 idle" in texts[1]
    assert "the process is bound to 1 of the machine's 2 CPUs; 1 idle" in texts[2]
    assert "idle whatever the plan" not in texts[3]
