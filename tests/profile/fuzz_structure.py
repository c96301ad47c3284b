"""Structure-aware fuzzing of the profile readers: crafted HDF5 structures, resealed.

    /usr/bin/python3 fuzz_structure.py AMORSIZE_CLI SEED.h5... [--iterations N] [--seconds S]

Byte mutations (fuzz_profile.c) mostly end at HDF5's metadata checksums. This
driver builds valid HDF5 files that carry what a profile never holds, with h5py,
then writes a valid seal over them so that they reach the readers: data in
external files, external and soft links, virtual datasets, variable-length
strings, fields and attributes of other types (enum, bool, float32, int64,
big-endian, arrays, empty dataspaces), rows that were never written, filters the
writer never uses, deleted objects, and random values in the tables' data. Each
file is read by the C tool (`amorsize report`, under the sanitizers in those
builds) and by the Python reader. The test fails when

  - the C tool crashes, hangs (20 s), or exits with anything but 0 or 2, or prints
    more than one line on stderr;
  - the Python reader raises anything but amorsize.ProfileError;
  - the two disagree: one accepts what the other refuses, their reports differ,
    or their error lines differ.

Exit 0 with "fuzz_structure: ... 0 failures" on the last line; 1 otherwise; 77
when h5py cannot be imported. Deterministic for a given seed (AMZ_FUZZ_SEED).
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "src", "python"))

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import {e.name} (Debian: python3-h5py)")
    sys.exit(77)

import amorsize  # noqa: E402
from amorsize._seal import seal as reseal  # noqa: E402

TABLES = ["chunks", "workers", "overheads", "system", "failures", "plan/candidates",
          "model/cost_profile"]
ROOT_STR = ["task", "kind", "mode", "schedule", "host", "library_version", "created"]
ROOT_NUM = ["n_items", "chunk", "items_done", "threads", "ranks_used", "run_index", "wall_s",
            "predicted_s", "schema_version", "chunks_dropped"]


def put_attr(obj, name, value, dtype=None):
    if name in obj.attrs:
        del obj.attrs[name]
    if dtype is None:
        obj.attrs[name] = value
    else:
        obj.attrs.create(name, value, dtype=dtype)


def replace_table(f, name, make):
    data = f[name][()]
    del f[name]
    make(data)


def retyped(data, field, dtype):
    new = np.dtype([(n, dtype if n == field else data.dtype.fields[n][0])
                    for n in data.dtype.names])
    out = np.zeros(data.shape, dtype=new)
    for n in data.dtype.names:
        try:
            out[n] = data[n]
        except (ValueError, TypeError):
            pass
    return out


# ---- the mutations -------------------------------------------------------------------

def m_external(f, rng, tmp):
    name = rng.choice(TABLES)
    secret = os.path.join(tmp, "secret.txt")
    with open(secret, "wb") as s:
        s.write(b"root:x:0:0:root:/root:/bin/bash\n" * 64)
    replace_table(f, name, lambda d: f.create_dataset(
        name, shape=d.shape, dtype=d.dtype, external=[(secret, 0, h5py.h5f.UNLIMITED)]))


def m_link(f, rng, tmp):
    name = rng.choice(TABLES + ["plan", "model"])
    other = os.path.join(tmp, "other.h5")
    with h5py.File(other, "w") as o:
        o["x"] = np.zeros(3)
    del f[name]
    f[name] = (h5py.SoftLink("/chunks") if rng.random() < 0.5
               else h5py.ExternalLink(other, "/x"))


def m_virtual(f, rng, tmp):
    name = rng.choice(TABLES)
    src = os.path.join(tmp, "src.h5")

    def make(d):
        with h5py.File(src, "w") as s:
            s.create_dataset("x", data=d)
        layout = h5py.VirtualLayout(shape=d.shape, dtype=d.dtype)
        layout[:] = h5py.VirtualSource(src, "x", shape=d.shape)
        f.create_virtual_dataset(name, layout)
    replace_table(f, name, make)


def m_vlen_attr(f, rng, tmp):
    put_attr(f, rng.choice(ROOT_STR), "x" * rng.choice([1, 40, 4000]))


def m_attr_type(f, rng, tmp):
    name = rng.choice(ROOT_NUM + ROOT_STR)
    choice = rng.randrange(7)
    enum = h5py.enum_dtype({"A": 0, "B": 1, "C": 2}, basetype="i1")
    if choice == 0:
        put_attr(f, name, np.bytes_("12345"))
    elif choice == 1:
        put_attr(f, name, np.array([1, 2, 3], dtype="<i4"))
    elif choice == 2:
        put_attr(f, name, h5py.Empty("<u8"))
    elif choice == 3:
        put_attr(f, name, 1, dtype=enum)
    elif choice == 4:
        put_attr(f, name, np.float32(rng.choice([0.5, -1.0, np.inf, np.nan])))
    elif choice == 5:
        put_attr(f, name, np.int64(rng.choice([-1, 0, 2**62, 2**31])))
    else:
        put_attr(f, name, np.uint64(rng.choice([0, 2**63, 2**64 - 1])))


def m_field_type(f, rng, tmp):
    name = rng.choice(TABLES[:-1])
    dt = f[name].dtype
    field = rng.choice(dt.names)
    new = rng.choice([np.bool_, "<f4", "<i8", ">i4", ">f8", "u1", "S3", "<u8",
                      h5py.enum_dtype({"A": 0, "B": 1}, basetype="i1"), h5py.string_dtype()])
    replace_table(f, name, lambda d: f.create_dataset(name, data=retyped(d, field, new)))


def m_extra_vlen_field(f, rng, tmp):
    name = rng.choice(TABLES[:-1])

    def make(d):
        new = np.dtype(d.dtype.descr + [("note", h5py.string_dtype())])
        out = np.zeros(d.shape, dtype=new)
        for n in d.dtype.names:
            out[n] = d[n]
        out["note"] = "added"
        f.create_dataset(name, data=out)
    replace_table(f, name, make)


def m_unwritten(f, rng, tmp):
    name = rng.choice(TABLES)
    rows = rng.choice([1 << 12, 1 << 20, 1 << 25])
    replace_table(f, name, lambda d: f.create_dataset(
        name, shape=(rows,), dtype=d.dtype, chunks=(4096,), compression="gzip"))


def m_filter(f, rng, tmp):
    name = rng.choice(TABLES)
    replace_table(f, name, lambda d: f.create_dataset(
        name, data=d, compression=rng.choice(["lzf", "gzip"]), shuffle=rng.random() < 0.5,
        fletcher32=rng.random() < 0.5, chunks=True if d.shape and d.shape[0] else None))


def m_delete(f, rng, tmp):
    if rng.random() < 0.5:
        del f[rng.choice(TABLES + ["plan", "model"])]
    else:
        obj = f[rng.choice(["/", "/", "plan", "model"])]
        names = list(obj.attrs)
        if names:
            del obj.attrs[rng.choice(names)]


def m_values(f, rng, tmp):
    name = rng.choice(TABLES)
    d = f[name][()]
    if d.size == 0:
        return
    i = rng.randrange(d.shape[0])
    if d.dtype.names:
        field = rng.choice(d.dtype.names)
        kind = d.dtype.fields[field][0].kind
        v = (rng.choice([-1, 0, 1, 2**31 - 1, 2**20, 7]) if kind in "iu" else
             rng.choice([np.nan, np.inf, -1.0, 0.0, 1e300, 1e-300]) if kind == "f" else
             rng.choice([b"", b"\x1b]0;pwned\x07", b"\xff\xfe", b"guided", b"x" * 64]))
        try:
            with warnings.catch_warnings():  # out-of-range integers wrap, as intended
                warnings.simplefilter("ignore")
                d[field][i] = np.array(v).astype(d.dtype.fields[field][0])
        except (ValueError, OverflowError, TypeError):
            return
    else:
        d[i] = rng.choice([np.nan, np.inf, -1.0])
    f[name][...] = d


MUTATIONS = [m_external, m_link, m_virtual, m_vlen_attr, m_attr_type, m_field_type,
             m_extra_vlen_field, m_unwritten, m_filter, m_delete, m_values, m_values, m_values]


# ---- the check -------------------------------------------------------------------------

def text(b, loose):
    t = b.decode("utf-8", "replace")
    return " ".join(t.split()) if loose else t


def check(cli, path):
    """(one line saying what went wrong or None, the C tool's exit code)."""
    try:
        c = subprocess.run([cli, "report", path], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the C tool hung (20 s)", None
    rc = c.returncode
    if rc not in (0, 2):
        return f"the C tool exited with {rc}: {c.stderr[-2000:]!r}", rc
    if rc == 2 and c.stderr.count(b"\n") != 1:
        return f"the C tool printed several lines on stderr: {c.stderr[:500]!r}", rc
    try:
        p = amorsize.open(path)
        py_rc, py_out, py_err = 0, p.summary(path).encode("utf-8", "surrogateescape"), b""
        for name in ("chunks", "workers", "ranks", "candidates", "terms", "nodes", "failures",
                     "model", "cost_profile", "findings"):
            getattr(p, name)
    except amorsize.ProfileError as e:
        py_rc, py_out, py_err = 2, b"", f"amorsize: {e}\n".encode()
    except Exception as e:  # noqa: BLE001 - the point: nothing else may escape
        return f"the Python reader raised {type(e).__name__}: {e}", rc
    loose = "\ufffd" in (c.stdout + c.stderr).decode("utf-8", "replace")
    if py_rc != rc:
        return (f"C exits {rc}, Python {py_rc}: C {c.stderr[:300]!r}, "
                f"Python {py_err[:300]!r}"), rc
    if text(c.stdout, loose) != text(py_out, loose):
        return "the reports differ", rc
    if text(c.stderr, loose) != text(py_err, loose):
        return f"the error lines differ: C {c.stderr!r}, Python {py_err!r}", rc
    return None, rc


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = dict(zip(argv[::1], argv[1::1]))
    iterations = int(opts.get("--iterations", 200))
    seconds = float(opts.get("--seconds", 120))
    for k in ("--iterations", "--seconds"):
        if k in opts:
            args.remove(opts[k])
    if len(args) < 2:
        print(__doc__)
        return 2
    cli, seeds = args[0], args[1:]
    seed = int(os.environ.get("AMZ_FUZZ_SEED", "20261206"))
    rng = random.Random(seed)
    counts = {"accepted": 0, "refused": 0}
    failures = []
    kinds = {}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="amz-fuzz-structure-") as tmp:
        for it in range(iterations):
            if time.monotonic() - t0 > seconds:
                break
            path = os.path.join(tmp, f"f{it}.h5")
            shutil.copyfile(rng.choice(seeds), path)
            applied = []
            with h5py.File(path, "r+") as f:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    m = rng.choice(MUTATIONS)
                    try:
                        m(f, rng, tmp)
                        applied.append(m.__name__[2:])
                    except (KeyError, ValueError, TypeError, OSError, RuntimeError):
                        pass  # the mutation did not apply to this file (already changed)
            reseal(path)
            for a in applied:
                kinds[a] = kinds.get(a, 0) + 1
            why, rc = check(cli, path)
            if why:
                keep = os.path.join(os.getcwd(), f"fuzz_structure-failure-{it}.h5")
                shutil.copyfile(path, keep)
                failures.append(f"iteration {it} ({', '.join(applied)}): {why} [kept {keep}]")
            else:
                counts["accepted" if rc == 0 else "refused"] += 1
    for line in failures[:20]:
        print("FAIL:", line)
    n = counts["accepted"] + counts["refused"] + len(failures)
    print("mutations applied: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"fuzz_structure: {n} files (seed {seed}), {counts['accepted']} accepted by both, "
          f"{counts['refused']} refused by both, {len(failures)} failures")
    return 1 if failures or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
