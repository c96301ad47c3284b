"""Damaged, foreign, newer and crafted files: amorsize.ProfileError with the reason.

The first group repeats the C reader's cases (tests/test_profile.c) with the same
expected reasons; the second builds files with h5py that are valid HDF5 and carry
a valid seal, but hold what a profile never holds (data outside the file, links,
variable-length strings, rows that were never written, values out of range)."""
import os
import random
import shutil

import h5py
import numpy as np
import pytest

import amorsize
from conftest import reseal


def expect(path, needle, verify=True):
    with pytest.raises(amorsize.ProfileError) as e:
        amorsize.open(path, verify=verify)
    assert needle in str(e.value), str(e.value)
    assert e.value.path == str(path) and e.value.reason in str(e.value)
    return e.value


def prefix(src, dst, n):
    with open(src, "rb") as a, open(dst, "wb") as b:
        b.write(a.read(n))


def patch(path, off, value):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(bytes([value]))


# ---- the C reader's cases ----------------------------------------------------------

def test_good_copy_opens(good):
    assert amorsize.open(good).attrs["n_items"] == 3000


@pytest.mark.parametrize("cut", [0, 1, 16, 17, 100, 511, 512, 600, 2048, "half", "minus1"])
def test_truncated(good, tmp_path, cut):
    size = os.path.getsize(good)
    n = size // 2 if cut == "half" else size - 1 if cut == "minus1" else cut
    bad = tmp_path / "bad.h5"
    prefix(good, bad, n)
    expect(bad, "empty file" if n == 0 else "not an Amorsize profile" if n < 17 else "truncated")


def test_random_bytes_and_text(tmp_path):
    bad = tmp_path / "random.h5"
    rng = random.Random(7)
    bad.write_bytes(bytes(rng.randrange(256) for _ in range(100000)))
    e = expect(bad, "not an Amorsize profile")
    assert "unknown first bytes" in e.reason
    txt = tmp_path / "notes.txt"
    txt.write_text("hello\n")
    expect(txt, "not an Amorsize profile")


def test_appended(good):
    with open(good, "ab") as f:
        f.write(b"tail")
    expect(good, "appended")


@pytest.mark.parametrize("where", [512, 700, "third", "half", "last"])
def test_flipped_byte(good, where):
    size = os.path.getsize(good)
    off = {"third": size // 3, "half": size // 2, "last": size - 1}.get(where, where)
    with open(good, "rb") as f:
        f.seek(off)
        old = f.read(1)[0]
    patch(good, off, 0x5A if old != 0x5A else 0xA5)
    expect(good, "damaged")


def test_newer_schema_and_damaged_header(good, tmp_path):
    bad = tmp_path / "bad.h5"
    shutil.copyfile(good, bad)
    patch(bad, 24, ord("2"))  # "schema 1" -> "schema 2"
    e = expect(bad, "newer")
    assert "schema version 2" in e.reason
    shutil.copyfile(good, bad)
    patch(bad, 36, ord("x"))  # inside the bytes line
    expect(bad, "damaged Amorsize header")


def test_missing_directory_fifo(tmp_path):
    expect(tmp_path / "missing.h5", "cannot open")
    expect(tmp_path, "not a regular file")
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    expect(fifo, "not a regular file")  # refused without opening: no hang


def test_foreign_hdf5(tmp_path):
    bad = tmp_path / "other.h5"
    with h5py.File(bad, "w") as f:
        f["data"] = np.arange(4)
    expect(bad, "another program")


def test_edit_without_reseal_and_verify_false(good):
    with h5py.File(good, "r+") as f:
        f.attrs["note_by_user"] = 1
    expect(good, "damaged")
    assert amorsize.open(good, verify=False).attrs["n_items"] == 3000


def put(f, name, value):
    """Replaces the root attribute `name` by one of value's own type (h5py's
    attrs.modify would keep the old type and convert the value)."""
    if name in f.attrs:
        del f.attrs[name]
    f.attrs[name] = value


def edit(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)
    reseal(path)


def test_mistyped_and_missing(good, tmp_path):
    cases = [
        (lambda f: put(f, "n_items", np.bytes_("12345678")), "'n_items'"),
        (lambda f: f.attrs.__delitem__("wall_s"), "missing attribute 'wall_s'"),
        (lambda f: f.__delitem__("model"), "missing group 'model'"),
        (lambda f: (f.__delitem__("chunks"), f.create_dataset("chunks", data=np.arange(3))),
         "'chunks' is not a table"),
        (lambda f: put(f, "threads", np.int32(0)), "'threads'"),
        (lambda f: put(f, "schedule", np.bytes_("fastest")), "not a schedule name"),
        (lambda f: put(f, "wall_s", np.float64("nan")), "not a finite number"),
        (lambda f: put(f, "items_done", np.uint64(10**6)), "exceed n_items"),
        (lambda f: put(f, "predicted_lo_s", np.float64(1e9)), "predicted interval [1e+09,"),
        (lambda f: put(f, "schema_version", np.int32(1)) or
         put(f, "ranks_used", np.int32(9)), "'ranks_used'"),
    ]
    for fn, needle in cases:
        bad = tmp_path / "bad.h5"
        shutil.copyfile(good, bad)
        edit(bad, fn)
        expect(bad, needle)


def rows_edit(good, tmp_path, table, field, value, row=0):
    bad = tmp_path / f"bad_{table.replace('/', '_')}_{field}.h5"
    shutil.copyfile(good, bad)

    def fn(f):
        d = f[table][:]
        d[field][row] = value
        f[table][...] = d
    edit(bad, fn)
    return bad


def test_rows_out_of_range(good, tmp_path):
    expect(rows_edit(good, tmp_path, "chunks", "rank", 7), "row 0 of 'chunks': rank 7")
    expect(rows_edit(good, tmp_path, "chunks", "end", 10**9), "outside [0, 3000)")
    expect(rows_edit(good, tmp_path, "chunks", "t_end", -1e9), "not an interval")
    expect(rows_edit(good, tmp_path, "workers", "busy_s", np.inf), "times are not finite")
    expect(rows_edit(good, tmp_path, "plan/candidates", "schedule", b"bogus"), "unknown")
    expect(rows_edit(good, tmp_path, "overheads", "measured_s", np.nan), "not a finite number")
    expect(rows_edit(good, tmp_path, "system", "node", 3), "row 0 of 'system'")
    expect(rows_edit(good, tmp_path, "failures", "end", 0), "row 0 of 'failures'")


# ---- crafted structures: what a profile never holds ----------------------------------

def replace_table(path, name, make):
    """Replaces dataset `name` by what make(f, name, data) creates, then reseals."""
    def fn(f):
        data = f[name][:]
        del f[name]
        make(f, name, data)
    edit(path, fn)


def test_external_storage_is_refused(good, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 64)

    def make(f, name, data):
        f.create_dataset(name, shape=(4,), dtype=data.dtype,
                         external=[(str(secret), 0, h5py.h5f.UNLIMITED)])
    replace_table(good, "overheads", make)
    e = expect(good, "external file")
    assert "secret.txt" in e.reason


def test_external_and_soft_links_are_refused(good, tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["system"] = np.zeros(1)
    bad = tmp_path / "ext.h5"
    shutil.copyfile(good, bad)
    edit(bad, lambda f: (f.__delitem__("system"),
                         f.__setitem__("system", h5py.ExternalLink(str(other), "/system"))))
    expect(bad, "external link")
    shutil.copyfile(good, bad)
    edit(bad, lambda f: (f.__delitem__("failures"),
                         f.__setitem__("failures", h5py.SoftLink("/chunks"))))
    expect(bad, "soft link")


def test_virtual_dataset_is_refused(good, tmp_path):
    src = tmp_path / "src.h5"

    def make(f, name, data):
        with h5py.File(src, "w") as s:
            s.create_dataset("x", data=data)
        layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
        layout[:] = h5py.VirtualSource(str(src), "x", shape=data.shape)
        f.create_virtual_dataset(name, layout)
    replace_table(good, "failures", make)
    expect(good, "virtual dataset")


def test_variable_length_strings_are_refused(good, tmp_path):
    bad = tmp_path / "vlen.h5"
    shutil.copyfile(good, bad)
    edit(bad, lambda f: put(f, "task", "x" * 4000))  # h5py writes str as vlen
    expect(bad, "variable-length")

    def make(f, name, data):
        dt = np.dtype([("term", h5py.string_dtype()), ("predicted_s", "<f8"),
                       ("measured_s", "<f8")])
        out = np.zeros(len(data), dtype=dt)
        for k in ("predicted_s", "measured_s"):
            out[k] = data[k]
        out["term"] = [t.decode() for t in data["term"]]
        f.create_dataset(name, data=out)
    replace_table(good, "overheads", make)
    expect(good, "variable-length")


def test_rows_never_written_are_refused(good):
    # 2^25 declared rows in a chunked table of which none was written: a few KB on
    # disk. Refused from its size, before a byte of it is allocated or read.
    def make(f, name, data):
        f.create_dataset(name, shape=(1 << 25,), dtype=data.dtype, chunks=(32768,),
                         compression="gzip", compression_opts=1)
    replace_table(good, "chunks", make)
    assert os.path.getsize(good) < 1 << 20
    expect(good, "never written")


def test_too_many_rows_are_refused(good):
    def make(f, name, data):
        f.create_dataset(name, shape=((1 << 28) + 1,), dtype=data.dtype, chunks=(32768,))
    replace_table(good, "workers", make)
    expect(good, "more than the reader's limit")


def _exercise(p):
    """Every property and the report of an opened profile: none may raise."""
    for name in ("attrs", "chunks", "run_chunks", "workers", "ranks", "candidates", "terms",
                 "nodes", "failures", "model", "cost_profile", "findings", "plan"):
        getattr(p, name)
    return p.summary()


def test_random_mutations_never_escape(good, tmp_path):
    """Resealed byte mutations anywhere after the header: every one opens (and then
    every property and the report work) or raises ProfileError; nothing else escapes
    (h5py's own errors are translated)."""
    rng = random.Random(11)
    data = open(good, "rb").read()
    outcomes = {"opened": 0, "refused": 0}
    for i in range(80):
        b = bytearray(data)
        for _ in range(rng.choice([1, 4, 16])):
            b[rng.randrange(512, len(b))] = rng.randrange(256)
        bad = tmp_path / f"m{i}.h5"
        bad.write_bytes(bytes(b))
        reseal(bad)
        try:
            _exercise(amorsize.open(bad))
            outcomes["opened"] += 1
        except amorsize.ProfileError:
            outcomes["refused"] += 1
    # Both outcomes occur: mutations in raw data pass HDF5's checksums, others do not.
    assert outcomes["opened"] > 0 and outcomes["refused"] > 0, outcomes


def _data_regions(path):
    """(offset, size) of the raw data of every contiguous table of the profile."""
    out = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.chunks is None:
                off = obj.id.get_offset()
                if off is not None and obj.id.get_storage_size() > 0:
                    out.append((off, obj.id.get_storage_size()))
        f.visititems(visit)
    return out


def _c_and_python(cli, path):
    import subprocess
    import sys
    c = subprocess.run([cli, "report", str(path)], capture_output=True, timeout=60)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(amorsize.__path__[0]))
    py = subprocess.run([sys.executable, "-m", "amorsize", "summary", str(path)],
                        capture_output=True, timeout=120, env=env)
    return c, py


def _same(c, py):
    """C's and Python's answers are the same: exit code, and output and error line as
    text. Invalid UTF-8 that the C tool prints raw the Python reader prints as U+FFFD
    (which may shift a padded column): then spaces are not compared."""
    def text(b, loose):
        t = b.decode("utf-8", "replace")
        return " ".join(t.split()) if loose else t
    loose = "\ufffd" in (c.stdout + c.stderr).decode("utf-8", "replace")
    return ((c.returncode, text(c.stdout, loose), text(c.stderr, loose))
            == (py.returncode, text(py.stdout, loose), text(py.stderr, loose)))


def test_taken_beyond_items(cli, good, tmp_path):
    """A worker that took more items than it ran: both readers refuse the file with
    the same line. The committed file predates the field: the table is written again
    with it, as the writer now does."""
    def fn(f):
        d = f["workers"][:]
        t = np.zeros(d.shape, dtype=np.dtype({
            "names": list(d.dtype.names) + ["taken"],
            "formats": [d.dtype.fields[k][0] for k in d.dtype.names] + ["<u8"]}))
        for k in d.dtype.names:
            t[k] = d[k]
        t["taken"][1] = t["items"][1] + 1
        del f["workers"]
        f.create_dataset("workers", data=t)
    bad = _crafted(good, tmp_path, "taken", fn)
    expect(bad, "row 1 of 'workers': %d items taken, more than its %d items"
           % (1662, 1661))
    c, py = _c_and_python(cli, bad)
    assert c.returncode != 0 and _same(c, py), (c.stderr, py.stderr)


def test_value_mutations_agree_with_the_c_reader(cli, good, tmp_path):
    """Mutations of the tables' values (past HDF5's checksums, into the row checks):
    the C tool and the Python reader accept the same files, print the same report
    for them and the same error line for the others."""
    rng = random.Random(5)
    regions = _data_regions(good)
    assert len(regions) >= 5
    data = open(good, "rb").read()
    both = {"accepted": 0, "refused": 0}
    for i in range(30):
        b = bytearray(data)
        for _ in range(rng.choice([1, 2, 8])):
            off, size = rng.choice(regions)
            b[off + rng.randrange(size)] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        bad = tmp_path / f"v{i}.h5"
        bad.write_bytes(bytes(b))
        reseal(bad)
        c, py = _c_and_python(cli, bad)
        assert _same(c, py), \
            f"mutation {i}: C {c.returncode} {c.stderr!r}, Python {py.returncode} {py.stderr!r}"
        both["accepted" if c.returncode == 0 else "refused"] += 1
    assert both["accepted"] > 0 and both["refused"] > 0, both


def _crafted(good, tmp_path, name, fn):
    bad = tmp_path / f"{name}.h5"
    shutil.copyfile(good, bad)
    edit(bad, fn)
    return bad


def _retype_field(f, table, field, dtype):
    d = f[table][:]
    new = np.dtype([(n, dtype if n == field else d.dtype.fields[n][0]) for n in d.dtype.names])
    out = np.zeros(len(d), dtype=new)
    for n in d.dtype.names:
        out[n] = d[n]
    del f[table]
    f.create_dataset(table, data=out)


def test_crafted_types_agree_with_the_c_reader(cli, good, tmp_path):
    """HDF5 types that numpy hides (enum, bool, bitfield), other filters, other
    integer widths and signs, and case in names: the same verdict in C and Python."""
    enum8 = h5py.enum_dtype({"A": 0, "B": 1, "C": 2}, basetype="i1")
    cases = {
        "enum_attr": lambda f: (f.attrs.__delitem__("threads"),
                                f.attrs.create("threads", 1, dtype=enum8)),
        "bool_attr": lambda f: (f.attrs.__delitem__("chunks_dropped"),
                                f.attrs.create("chunks_dropped", False, dtype=np.bool_)),
        "bool_field": lambda f: _retype_field(f, "chunks", "sampled", np.bool_),
        "enum_field": lambda f: _retype_field(f, "workers", "rank", enum8),
        "int64_begin": lambda f: _retype_field(f, "failures", "begin", "<i8"),
        "bigendian_times": lambda f: _retype_field(f, "chunks", "t_end", ">f8"),
        "float32_times": lambda f: _retype_field(f, "workers", "busy_s", "<f4"),
        "schedule_case": lambda f: put(f, "schedule", np.bytes_("Guided")),
        "empty_attr": lambda f: (f.attrs.__delitem__("n_items"),
                                 f.attrs.create("n_items", h5py.Empty("<u8"))),
        "array_attr": lambda f: put(f, "wall_s", np.array([0.1, 0.2])),
    }
    for name, fn in cases.items():
        c, py = _c_and_python(cli, _crafted(good, tmp_path, name, fn))
        assert _same(c, py), \
            f"{name}: C {c.returncode} {c.stderr!r}, Python {py.returncode} {py.stderr!r}"
    # A filter the writer never uses (LZF, built into h5py): both refuse it by name.
    bad = _crafted(good, tmp_path, "lzf", lambda f: (lambda d: (
        f.__delitem__("workers"), f.create_dataset("workers", data=d, compression="lzf")))(
            f["workers"][:]))
    c, py = _c_and_python(cli, bad)
    assert c.returncode == 2 and b"filter 32000" in c.stderr and _same(c, py), py.stderr


def test_crafted_structures_agree_with_the_c_reader(cli, good, tmp_path):
    """What a profile never holds: data in another file, links, virtual datasets,
    variable-length strings, rows never written. Both readers refuse each with the
    same line, before reading its data."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 64)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as o:
        o["system"] = np.zeros(1)

    def external(f):
        d = f["overheads"][:]
        del f["overheads"]
        f.create_dataset("overheads", shape=d.shape, dtype=d.dtype,
                         external=[(str(secret), 0, h5py.h5f.UNLIMITED)])

    def unwritten(f):
        d = f["chunks"][:]
        del f["chunks"]
        f.create_dataset("chunks", shape=(1 << 25,), dtype=d.dtype, chunks=(32768,),
                         compression="gzip", compression_opts=1)

    cases = {
        "external": (external, "external file"),
        "extlink": (lambda f: (f.__delitem__("system"), f.__setitem__(
            "system", h5py.ExternalLink(str(other), "/system"))), "external link"),
        "softlink": (lambda f: (f.__delitem__("failures"),
                                f.__setitem__("failures", h5py.SoftLink("/chunks"))),
                     "soft link"),
        "vlen_attr": (lambda f: put(f, "task", "edited with h5py"), "variable-length string"),
        "unwritten": (unwritten, "never written"),
    }
    for name, (fn, needle) in cases.items():
        bad = _crafted(good, tmp_path, name, fn)
        c, py = _c_and_python(cli, bad)
        assert c.returncode == 2 and needle.encode() in c.stderr, (name, c.stderr)
        assert _same(c, py), \
            f"{name}: C {c.returncode} {c.stderr!r}, Python {py.returncode} {py.stderr!r}"
        assert b"root:x" not in c.stdout + py.stdout


def test_control_characters_and_invalid_utf8_are_cleaned(cli, good, tmp_path):
    """A task that would retitle the terminal and change its colours, a host with
    bytes that are not UTF-8, a term name with an escape: both readers hand out
    escapes and U+FFFD; text, CSV and JSON output carry no control character and
    are valid UTF-8; C and Python print the same."""
    import json
    import subprocess

    def fn(f):
        put(f, "task", np.bytes_(b"\x1b]0;pwned\x07\x1b[31mred\x9b"))
        put(f, "host", np.bytes_(b"node\xff\xfe1\xe2\x82"))
        t = f["overheads"][:]
        t["term"][0] = b"\x1b[2Jstart"
        f["overheads"][...] = t
        s = f["system"][:]
        s["cpu_model"][0] = b"AMD\x1b[5m"
        f["system"][...] = s
    bad = _crafted(good, tmp_path, "escapes", fn)
    p = amorsize.open(bad)
    assert p.attrs["task"] == "\\x1b]0;pwned\\x07\\x1b[31mred\ufffd"
    assert p.attrs["host"] == "node\ufffd\ufffd1\ufffd"
    assert p.terms.index[0] == "\\x1b[2Jstart" and p.nodes["cpu_model"][0] == "AMD\\x1b[5m"
    c, py = _c_and_python(cli, bad)
    assert c.returncode == 0 and _same(c, py), py.stderr
    for args in (["report"], ["compare", "--format", "json", str(good)],
                 ["compare", "--format", "csv", str(good)], ["compare", str(good)],
                 ["workers", "--format", "json"]):
        r = subprocess.run([cli, *args, str(bad)], capture_output=True, timeout=60)
        assert r.returncode == 0, (args, r.stderr)
        out = r.stdout.decode("utf-8")  # strict: valid UTF-8
        assert not any(ord(ch) < 0x20 and ch not in "\n" for ch in out), args
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in out), args
        if "json" in args:
            json.loads(out)
    html = subprocess.run([cli, "html", str(bad), "-o", "-"], capture_output=True, timeout=60)
    assert html.returncode == 0 and b"\x1b" not in html.stdout
