"""Opening a profile: the checks of the C reader, then pandas tables.

The layout, types and units are those of ``docs/PROFILE_FORMAT.md`` (schema 1).
Nothing is trusted: the seal is checked before h5py opens the file; every object
read must be a plain dataset or group of this file (no external storage, external
or soft links, virtual datasets, variable-length types), declared sizes are
checked against the storage that holds them before anything is allocated, tables
are read in bounded blocks, and every row is validated as the C reader does.
"""
import math
import os
import re

import numpy as np

from . import _seal
from ._errors import ProfileError

try:
    import h5py
except ImportError as _e:  # pragma: no cover - reported when a profile is opened
    h5py = None
    _H5PY_ERROR = _e

#: Most rows the reader accepts in one table (as the C reader).
MAX_ROWS = 1 << 28
#: Longest string attribute accepted, in bytes (as the C reader).
MAX_STRING = 1 << 20
#: Highest threads per rank the library runs (AMZ__MAX_WORKERS).
MAX_WORKERS = 4096
#: Rows read from HDF5 at a time.
BLOCK_ROWS = 1 << 20
#: deflate expands at most 1032:1; shuffle keeps sizes. A table declaring more bytes
#: than its storage can hold even at that ratio has rows that were never written.
MAX_RATIO = 1100
SCHEDULES = ("auto", "static", "cyclic", "dynamic", "guided", "factoring", "awf")
TERMS = ("startup", "compute", "dispatch", "imbalance", "serial", "data", "total")

# Field lists: name -> class ('i' integer, 'f' float, 's' string), as the C reader
# requires them. Fields the reader does not know are ignored (within a schema,
# new fields may appear).
# The memory types the C reader converts each field to (src/profile/profile_types.c):
# HDF5 converts the file's types to these, clamping out-of-range integers, so
# both readers see the same values.
_MEM = {"rank": "<i4", "thread": "<i4", "node": "<i4", "status": "<i4", "sampled": "i1",
        "begin": "<u8", "end": "<u8", "t_start": "<f8", "t_end": "<f8", "items": "<u8",
        "chunks": "<u8", "busy_s": "<f8", "dispatch_s": "<f8", "idle_s": "<f8",
        "data_s": "<f8", "failures": "<u8", "ranks": "<i4", "threads": "<i4",
        "schedule": "S16", "chunk": "<u8", "predicted_s": "<f8", "startup_s": "<f8",
        "compute_s": "<f8", "imbalance_s": "<f8", "serial_s": "<f8", "chosen": "i1",
        "term": "S16", "measured_s": "<f8", "host": "S64", "cpu_model": "S96",
        "ranks_used": "<i4", "cores": "<i4", "pus": "<i4", "numa_nodes": "<i4",
        "shared": "<i4", "mem_bytes": "<u8", "code": "<i4", "pus_bound": "<i4",
        "taken": "<u8"}
_CHUNK = {"rank": "i", "thread": "i", "node": "i", "begin": "i", "end": "i",
          "t_start": "f", "t_end": "f", "status": "i", "sampled": "i"}
_WORKER = {"rank": "i", "thread": "i", "node": "i", "items": "i", "chunks": "i",
           "busy_s": "f", "dispatch_s": "f", "idle_s": "f", "data_s": "f", "failures": "i",
           "taken": "i"}
_CAND = {"ranks": "i", "threads": "i", "schedule": "s", "chunk": "i", "predicted_s": "f",
         "startup_s": "f", "compute_s": "f", "dispatch_s": "f", "imbalance_s": "f",
         "serial_s": "f", "data_s": "f", "chosen": "i"}
_TERM = {"term": "s", "predicted_s": "f", "measured_s": "f"}
_NODE = {"node": "i", "host": "s", "cpu_model": "s", "ranks": "i", "ranks_used": "i",
         "cores": "i", "pus": "i", "numa_nodes": "i", "shared": "i", "mem_bytes": "i",
         "pus_bound": "i"}
# Table fields added within schema 1: absent from older files, read as 0 (as the C
# reader's optional_field()).
_ADDED = {"pus_bound", "taken"}
_FAILURE = {"begin": "i", "end": "i", "code": "i"}

# Root attributes: name -> (class, required).
_ROOT = {
    "schema_version": ("i", True), "library_version": ("s", True), "created": ("s", True),
    "task": ("s", True), "kind": ("s", True), "mode": ("s", True), "schedule": ("s", True),
    "command_line": ("s", False), "host": ("s", False), "slurm_job_id": ("s", False),
    "slurm": ("s", False), "mpi_library": ("s", False), "n_items": ("u", True), "chunk": ("u", True),
    "items_done": ("u", True), "items_failed": ("u", True), "sampled_items": ("u", True),
    "items_resumed": ("u", False), "items_recovered": ("u", False),
    "retry_calls": ("u", False), "checkpoint": ("s", False), "chunks_total": ("u", True),
    "chunks_dropped": ("u", True), "run_index": ("i", True), "ranks_launched": ("i", True),
    "ranks_used": ("i", True), "nodes": ("i", True), "threads": ("i", True),
    "wall_s": ("f", True), "predicted_s": ("f", True), "predicted_serial_s": ("f", True),
    "setup_s": ("f", True), "mean_item_s": ("f", True),
    "predicted_lo_s": ("f", False), "predicted_hi_s": ("f", False),
    "predicted_widest": ("s", False),
}
# /model attributes: name -> (class, required, unit).
_MODEL = {
    "sampled_items": ("u", True, "items"), "sample_blocks": ("u", True, "blocks"),
    "block_items": ("u", True, "items"), "mean_s": ("f", True, "s"),
    "median_s": ("f", True, "s"), "mad_s": ("f", True, "s"), "cv": ("f", True, ""),
    "max_item_s": ("f", True, "s"), "trend": ("f", True, ""), "cpu_ratio": ("f", True, ""),
    "contention": ("f", True, ""), "rel_error": ("f", True, ""),
    "sample_wall_s": ("f", True, "s"), "stop_reason": ("s", False, ""),
    "thread_start_s": ("f", True, "s"), "pool_wake_s": ("f", True, "s"),
    "chunk_static_s": ("f", True, "s"), "chunk_atomic_s": ("f", True, "s"),
    "chunk_contended_s": ("f", True, "s"), "chunk_awf_s": ("f", True, "s"),
    "latency_shm_s": ("f", False, "s"), "bandwidth_shm_Bps": ("f", False, "bytes/s"),
    "latency_net_s": ("f", False, "s"), "bandwidth_net_Bps": ("f", False, "bytes/s"),
    "counter_s": ("f", False, "s"),
}
# What h5py raises on damaged or crafted files: its errors map HDF5's onto these
# (RuntimeError for some metadata checksum failures).
_H5ERR = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError,
          IndexError)
_CLASS_NAME = {"i": "integer", "u": "integer", "f": "float", "s": "string"}


# HDF5 type classes by number (H5T_class_t), in the C reader's words.
_H5_CLASS = ("integer", "float", "time", "string", "bitfield", "opaque", "compound",
             "reference", "enum", "vlen", "array")
_WANT = {"i": 0, "u": 0, "f": 1, "s": 3}  # H5T_INTEGER, H5T_FLOAT, H5T_STRING
# Filters the writer uses (deflate, shuffle) and HDF5's checksum; data behind any
# other filter is refused, as the C library (without plugins) cannot read it either.
_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32"}


def _class_name(cls):
    return _H5_CLASS[cls] if 0 <= cls < len(_H5_CLASS) else "value of unknown class"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escape(m):
    o = ord(m.group())
    return "\\x%02x" % o if o < 0x80 else "\\u%04x" % o


def _cut(s, n):
    """The first n bytes of s in UTF-8, as C's %.Ns prints them (a cut character
    reads as U+FFFD)."""
    return s.encode("utf-8")[:n].decode("utf-8", errors="replace")


def _text(b, newlines=False):
    """A fixed-length HDF5 string as the C reader hands it out: up to its first NUL,
    each maximal invalid UTF-8 subsequence replaced by U+FFFD, and control
    characters written as escapes (\\x1b, \\u009b; line feeds kept when
    `newlines`), so that no profile string can steer a terminal."""
    if isinstance(b, np.ndarray):
        b = b.tobytes()
    s = bytes(b).split(b"\0", 1)[0].decode("utf-8", errors="replace")
    if newlines:
        return "\n".join(_CONTROL.sub(_escape, part) for part in s.split("\n"))
    return _CONTROL.sub(_escape, s)


class _Reader:
    """One pass over an open h5py file, raising ProfileError at the first problem."""

    def __init__(self, path, f):
        self.path = path
        self.f = f

    def fail(self, reason):
        raise ProfileError(self.path, reason)

    # ---- objects ----------------------------------------------------------------

    def _link(self, group, name, what, want):
        """The object `name` of `group`, which must be a hard link to a `want`
        (h5py.Group or h5py.Dataset) stored in this file, or None when absent."""
        try:
            link = group.get(name, getlink=True)
        except _H5ERR:
            self.fail(f"unreadable {what} '{name}'")
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            target = link.filename
            target = _text(target.encode("utf-8", "surrogateescape")) if isinstance(
                target, str) else _text(target)
            self.fail(f"{what} '{name}' is an external link to '{target}': a profile "
                      "holds its data itself")
        if isinstance(link, h5py.SoftLink):
            self.fail(f"{what} '{name}' is a soft link: a profile has none")
        try:
            obj = group[name]
        except _H5ERR:
            self.fail(f"unreadable {what} '{name}'")
        if not isinstance(obj, want):
            return None
        if isinstance(obj, h5py.Dataset):
            self._check_storage(obj, name)
        return obj

    def _check_storage(self, ds, name):
        """Refuses data stored outside the file or behind filters the writer never
        uses."""
        try:
            external = ds.external
            if external:
                where = external[0][0]
                where = _text(where) if isinstance(where, bytes) else str(where)
                self.fail(f"table '{name}' keeps its data in an external file ('{where}'): "
                          "a profile holds its data itself")
            if ds.is_virtual:
                self.fail(f"table '{name}' is a virtual dataset: a profile holds its data itself")
            plist = ds.id.get_create_plist()
            for i in range(plist.get_nfilters()):
                code = plist.get_filter(i)[0]
                if code not in _FILTERS:
                    self.fail(f"table '{name}' is stored through HDF5 filter {code}; profiles "
                              f"use only {', '.join(_FILTERS.values())}")
        except ProfileError:
            raise
        except _H5ERR:
            self.fail(f"unreadable table '{name}'")

    def group(self, name, where=None):
        g = self._link(where if where is not None else self.f, name, "group", h5py.Group)
        if g is None:
            self.fail(f"missing group '{name}'")
        return g

    # ---- attributes -------------------------------------------------------------

    def attr(self, loc, where, name, cls, required):
        """The attribute's value (cls: 'i' integer, 'u' count, 'f' float, 's' string),
        checked as the C reader checks it; "" or 0 when absent and not required."""
        try:
            attrs = loc.attrs
            present = name in attrs
        except _H5ERR:
            self.fail(f"unreadable attribute '{name}' of {where}")
        if not present:
            if required:
                self.fail(f"missing attribute '{name}' of {where}")
            return "" if cls == "s" else 0
        try:
            aid = h5py.h5a.open(loc.id, name.encode())
            tid, shape = aid.get_type(), aid.shape
            have = tid.get_class()
            vlen = have == 3 and tid.is_variable_str()
            size = tid.get_size()
        except _H5ERR:
            self.fail(f"unreadable attribute '{name}' of {where}")
        if have != _WANT[cls]:
            self.fail(f"attribute '{name}' of {where} is a {_class_name(have)}, "
                      f"expected a {_CLASS_NAME[cls]}")
        npoints = 0 if shape is None else int(np.prod(shape)) if shape else 1
        if npoints != 1:
            self.fail(f"attribute '{name}' of {where} has {npoints} values, expected one")
        if vlen:
            # Variable-length data lives in HDF5's global heap, which has no checksum
            # and has crashed HDF5's reader on crafted files; the writer never uses it.
            self.fail(f"attribute '{name}' of {where} is a variable-length string; "
                      "profiles hold fixed-length strings")
        if cls == "s" and (size == 0 or size > MAX_STRING):
            self.fail(f"attribute '{name}' of {where} is a string of {size} bytes")
        try:
            v = np.asarray(attrs[name]).reshape(-1)[0]
        except _H5ERR:
            self.fail(f"unreadable attribute '{name}' of {where}")
        if cls == "s":
            return _text(v, newlines=name == "slurm")
        if cls == "f":
            v = float(v)
            if not math.isfinite(v):
                self.fail(f"attribute '{name}' of {where} is not a finite number")
            return v
        v = int(v)
        if cls == "u" and v < 0:
            self.fail(f"attribute '{name}' of {where} is {v}, expected a count >= 0")
        return v

    def int_in(self, loc, where, name, lo, hi):
        v = self.attr(loc, where, name, "i", True)
        if v > 2**63 - 1:
            self.fail(f"attribute '{name}' of {where} is {v}, expected at most {hi}")
        if v < lo or v > hi:
            self.fail(f"attribute '{name}' of {where} is {v}, expected {lo} to {hi}")
        return v

    # ---- tables -----------------------------------------------------------------

    def table(self, name, fields, where=None, label=None):
        """The table as a dict of numpy columns, after checking that it is a 1-D
        compound with every field of `fields` of the right class, that its size is
        within bounds and backed by storage, reading it in blocks."""
        label = label or name
        ds = self._link(where if where is not None else self.f, name, "table", h5py.Dataset)
        if ds is None:
            self.fail(f"missing table '{label}'")
        try:
            dt, shape = ds.dtype, ds.shape
        except _H5ERR:
            self.fail(f"unreadable table '{label}'")
        if dt.names is None:
            self.fail(f"table '{label}' is not a table of records (compound type)")
        try:
            tid = ds.id.get_type()
            members = {}
            for fname in fields:
                idx = tid.get_member_index(fname.encode()) if fname in dt.names else -1
                if idx >= 0:
                    mt = tid.get_member_type(idx)
                    members[fname] = (mt.get_class(), mt.get_class() == 3 and
                                      mt.is_variable_str())
        except _H5ERR:
            self.fail(f"unreadable table '{label}'")
        absent = [f for f in fields if f not in members and f in _ADDED]
        for fname, cls in fields.items():
            if fname in absent:
                continue
            if fname not in members:
                self.fail(f"table '{label}' has no field '{fname}'")
            have, vlen = members[fname]
            if have != _WANT[cls]:
                self.fail(f"field '{fname}' of table '{label}' has the wrong type "
                          f"({_CLASS_NAME[cls]} expected)")
            if vlen:  # as for attributes: never the global heap
                self.fail(f"field '{fname}' of table '{label}' is a variable-length string; "
                          "profiles hold fixed-length strings")
        if shape is None or len(shape) != 1:
            self.fail(f"table '{label}' is not one-dimensional")
        rows = int(shape[0])
        if rows > MAX_ROWS:
            self.fail(f"table '{label}' has {rows} rows, more than the reader's limit {MAX_ROWS}")
        want = rows * dt.itemsize
        if want > 0:
            try:
                stored = ds.id.get_storage_size()
            except _H5ERR:
                self.fail(f"unreadable table '{label}'")
            if stored * MAX_RATIO < want:
                self.fail(f"table '{label}' declares {rows} rows ({want} bytes) but stores "
                          f"{stored} bytes: rows that were never written")
        # Only the known fields are read (fields added by later versions are ignored,
        # whatever their type), converted by HDF5 to the C reader's memory types.
        # Strings keep the file's own type (HDF5 does not convert between character
        # sets) and are cut below to what the C reader's buffer holds.
        mem = np.dtype([(k, dt.fields[k][0] if cls == "s" else _MEM[k])
                        for k, cls in fields.items() if k not in absent])
        parts = []
        try:
            view = ds.astype(mem)
            for a in range(0, rows, BLOCK_ROWS):
                # One read for a small table (h5py's slicing costs about a millisecond).
                parts.append(view[()] if rows <= BLOCK_ROWS else view[a:min(rows, a + BLOCK_ROWS)])
        except _H5ERR:
            self.fail(f"cannot read table '{label}' (damaged data?)")
        data = np.concatenate(parts) if parts else np.zeros(0, dtype=mem)
        out = {}
        for k, cls in fields.items():
            if k in absent:
                out[k] = np.zeros(len(data), dtype=_MEM[k])
                continue
            out[k] = np.ascontiguousarray(data[k])
            if cls == "s":
                keep = int(_MEM[k][1:]) - 1  # the C reader's fixed buffer, NUL included
                out[k] = np.array([_text(bytes(x)[:keep]) for x in out[k]], dtype=object)
        return out


def _optional(group, name, kind, default):
    """A scalar attribute that only informs (not checked by the C reader): its value
    as `kind`, or `default` when absent, of another type or not finite."""
    try:
        aid = h5py.h5a.open(group.id, name.encode())
        cls = aid.get_type().get_class()
        if cls != (0 if kind is int else 1) or aid.shape not in ((), (1,)):
            return default
        v = kind(np.asarray(group.attrs[name]).reshape(-1)[0])
        return v if kind is int or math.isfinite(v) else default
    except _H5ERR:
        return default


def read(path, verify=True):
    """Reads and validates the whole profile; returns a dict of its parts."""
    if h5py is None:  # pragma: no cover - depends on the machine
        raise ImportError("amorsize needs h5py to read profiles: install Debian's python3-h5py "
                          "or `pip install 'amorsize[h5py]'` "
                          f"({_H5PY_ERROR})")
    p = os.fspath(path)
    schema = _seal.verify(p, verify_crc=verify)
    try:
        f = h5py.File(p, "r")
    except _H5ERR:
        raise ProfileError(p, "the HDF5 library cannot open it (damaged file?)") from None
    try:
        return _read_open(p, f, schema)
    except ProfileError:
        raise
    except _H5ERR as e:
        # A check above did not name this failure: still one exception type, with
        # h5py's reason.
        raise ProfileError(p, f"cannot read it (damaged file?): {e}") from None
    finally:
        f.close()


def _read_open(p, f, schema):
    r = _Reader(p, f)
    R = "the file (root)"
    a = {}
    ranges = {"schema_version": (1, _seal.SCHEMA_VERSION), "run_index": (1, 2**31 - 1),
              "ranks_launched": (1, 2**31 - 1), "ranks_used": (1, None), "nodes": (1, None),
              "threads": (1, MAX_WORKERS)}
    for name, (cls, req) in _ROOT.items():  # in the C reader's order
        if name in ranges:
            lo, hi = ranges[name]
            if hi is None:  # bounded by the attribute read before it
                hi = a["ranks_launched"] if name == "ranks_used" else a["ranks_used"]
            a[name] = r.int_in(f, R, name, lo, hi)
        else:
            a[name] = r.attr(f, R, name, cls, req)
    # Schedule names are matched without regard to case, as amz_schedule_parse does.
    if a["schedule"].lower() not in SCHEDULES:
        r.fail(f"attribute 'schedule' is '{_cut(a['schedule'], 40)}', not a schedule name")
    if a["kind"] not in ("threads", "mpi"):
        r.fail(f"attribute 'kind' is '{_cut(a['kind'], 40)}', expected threads or mpi")
    if a["mode"] not in ("range", "map"):
        r.fail(f"attribute 'mode' is '{_cut(a['mode'], 40)}', expected range or map")
    n = a["n_items"]
    if a["items_done"] > n or a["items_failed"] > n - a["items_done"]:
        r.fail(f"items done {a['items_done']} + failed {a['items_failed']} exceed "
               f"n_items {n}")
    if a["wall_s"] < 0 or a["predicted_s"] < 0 or a["setup_s"] < 0:
        r.fail("negative times in the root attributes")
    if a["predicted_lo_s"] < 0 or a["predicted_lo_s"] > a["predicted_hi_s"]:
        r.fail(f"predicted interval [{a['predicted_lo_s']:g}, {a['predicted_hi_s']:g}] s: "
               "expected 0 <= low <= high")
    if a["schema_version"] != schema:
        r.fail(f"schema version {schema} in the header, {a['schema_version']} in the file")
    ordered = {k: a[k] for k in _ROOT}  # the documented order

    launched = a["ranks_launched"]

    def ids_bad(cols):
        return ((cols["rank"] < 0) | (cols["rank"] >= launched) | (cols["thread"] < 0)
                | (cols["thread"] >= MAX_WORKERS) | (cols["node"] < 0)
                | (cols["node"] >= launched))

    def first_fault(checks):
        """The C reader checks row by row, each row's conditions in order: the first
        row with any fault, and the first of its faults (their message makers)."""
        rows = [int(np.argmax(bad)) for bad, _ in checks if bad.any()]
        if not rows:
            return
        i = min(rows)
        for bad, message in checks:
            if bad[i]:
                r.fail(message(i))

    c = r.table("chunks", _CHUNK)
    with np.errstate(invalid="ignore"):
        first_fault([
            (ids_bad(c), lambda i: f"row {i} of 'chunks': rank {c['rank'][i]}, thread "
                                   f"{c['thread'][i]} or node {c['node'][i]} out of range"),
            ((c["begin"] > c["end"]) | (c["end"] > n),
             lambda i: f"row {i} of 'chunks': items [{c['begin'][i]}, {c['end'][i]}) outside "
                       f"[0, {n})"),
            (~np.isfinite(c["t_start"]) | ~np.isfinite(c["t_end"]) | (c["t_end"] < c["t_start"]),
             lambda i: f"row {i} of 'chunks': times {c['t_start'][i]:g} to {c['t_end'][i]:g} "
                       "are not an interval"),
        ])

    w = r.table("workers", _WORKER)
    finite = np.ones(len(w["rank"]), dtype=bool)
    for k in ("busy_s", "dispatch_s", "idle_s", "data_s"):
        finite &= np.isfinite(w[k])
    first_fault([
        (ids_bad(w), lambda i: f"row {i} of 'workers': rank {w['rank'][i]}, thread "
                               f"{w['thread'][i]} or node {w['node'][i]} out of range"),
        (~finite, lambda i: f"row {i} of 'workers': times are not finite"),
        (w["taken"] > w["items"],
         lambda i: f"row {i} of 'workers': {w['taken'][i]} items taken, more than its "
                   f"{w['items'][i]} items"),
    ])

    plan = r.group("plan")
    why = r.attr(plan, "group 'plan'", "why", "s", True)
    # The C reader does not read these two: a value that is not what the format says
    # is shown as unknown (-1, NaN) rather than refused.
    chosen_row, search_s = _optional(plan, "chosen", int, -1), _optional(plan, "search_s",
                                                                        float, math.nan)
    cand = r.table("candidates", _CAND, where=plan, label="plan/candidates")
    for i in range(len(cand["ranks"])):
        if cand["ranks"][i] < 1 or cand["threads"][i] < 1 or cand["threads"][i] > MAX_WORKERS:
            r.fail(f"row {i} of 'plan/candidates': ranks {cand['ranks'][i]} or threads "
                   f"{cand['threads'][i]} out of range")
        if cand["schedule"][i].lower() not in SCHEDULES:
            r.fail(f"row {i} of 'plan/candidates': schedule '{cand['schedule'][i]}' unknown")
        if not math.isfinite(float(cand["predicted_s"][i])):
            r.fail(f"row {i} of 'plan/candidates': prediction not finite")

    model = r.group("model")
    W = "group 'model'"
    m = {name: r.attr(model, W, name, cls, req) for name, (cls, req, _u) in _MODEL.items()}
    cost = np.zeros(0)
    cp = r._link(model, "cost_profile", "table", h5py.Dataset)
    if cp is not None:
        if cp.dtype.kind != "f" or cp.shape is None or len(cp.shape) != 1:
            r.fail("'model/cost_profile' is not a 1-D array of floats")
        if cp.shape[0] > 4096:
            r.fail(f"'model/cost_profile' has {cp.shape[0]} bins, at most 4096 expected")
        try:
            cost = np.asarray(cp[:], dtype=np.float64)
        except _H5ERR:
            r.fail("cannot read 'model/cost_profile'")
        if not np.isfinite(cost).all():
            r.fail(f"'model/cost_profile' bin {int(np.argmax(~np.isfinite(cost)))} is not finite")

    t = r.table("overheads", _TERM)
    if not (np.isfinite(t["predicted_s"]).all() and np.isfinite(t["measured_s"]).all()):
        bad = ~np.isfinite(t["predicted_s"]) | ~np.isfinite(t["measured_s"])
        r.fail(f"row {int(np.argmax(bad))} of 'overheads': not a finite number")

    nd = r.table("system", _NODE)
    nn = len(nd["node"])
    if nn < 1 or nn > launched:
        r.fail(f"'system' has {nn} nodes, expected 1 to {launched} (ranks launched)")
    for i in range(nn):
        if (nd["node"][i] != i or nd["ranks"][i] < 0 or nd["ranks_used"][i] < 0
                or nd["cores"][i] < 0 or nd["pus_bound"][i] < 0):
            r.fail(f"row {i} of 'system': node {nd['node'][i]} or counts out of range")

    fl = r.table("failures", _FAILURE)
    bad = (fl["begin"] >= fl["end"]) | (fl["end"] > n)
    if bad.any():
        i = int(np.argmax(bad))
        r.fail(f"row {i} of 'failures': items [{fl['begin'][i]}, {fl['end'][i]}) outside "
               f"[0, {n})")
    for cols, table in ((c, "chunks"), (w, "workers")):
        bad = cols["node"] >= nn
        if bad.any():
            i = int(np.argmax(bad))
            r.fail(f"row {i} of '{table}': node {cols['node'][i]}, but 'system' has {nn} nodes")

    return {
        "attrs": ordered, "schema": schema,
        "chunks": c, "workers": w, "candidates": cand, "terms": t, "nodes": nd,
        "failures": fl, "model": m, "cost_profile": cost,
        "plan": {"why": why, "chosen": int(chosen_row), "search_s": search_s},
    }
