"""The Profile object: one Amorsize HDF5 profile as pandas tables."""
import os

import numpy as np
import pandas as pd

from . import _profile, findings as _findings


class Profile:
    """An Amorsize profile, read and validated in full when opened.

    Every table is a fresh pandas DataFrame on each access (change it freely).
    Column names are the HDF5 field names of ``docs/PROFILE_FORMAT.md``; times are
    seconds and sizes bytes unless the name says otherwise (``_s`` seconds,
    ``_bytes``, ``_Bps`` bytes per second); item indexes are 0-based and a range
    ``[begin, end)`` excludes ``end``. Strings are ``str`` (invalid UTF-8 replaced),
    flags are ``bool``.

    The file is closed once read: a Profile holds no HDF5 handle.
    """

    def __init__(self, path, verify=True):
        self.path = os.fspath(path)
        self._raw = _profile.read(self.path, verify=verify)
        self._stats = None

    def __repr__(self):
        a = self.attrs
        return (f"<amorsize.Profile {self.path!r}: task {a['task']!r}, {a['n_items']} items, "
                f"{a['ranks_used']} rank(s) x {a['threads']} thread(s), {a['schedule']}, "
                f"wall {a['wall_s']:.3g} s>")

    # ---- scalars ----------------------------------------------------------------

    @property
    def attrs(self):
        """The root attributes as a dict (``str``, ``int`` and ``float`` values).
        Optional attributes that the file lacks read as ``""`` or ``0``, as in C."""
        return dict(self._raw["attrs"])

    @property
    def schema_version(self):
        """The schema version of the file (1)."""
        return self._raw["schema"]

    @property
    def plan(self):
        """The ``/plan`` attributes: ``why`` (the planner's reason), ``chosen`` (row of
        ``candidates`` that ran, -1 when not recorded) and ``search_s`` (seconds the
        search took, NaN when not recorded)."""
        return dict(self._raw["plan"])

    @property
    def stats(self):
        """Derived figures (``amorsize.findings.Stats``): workers, kernel time,
        lower bound, efficiency, speedup and prediction error, as the report shows."""
        if self._stats is None:
            self._stats = _findings.stats(self)
        return self._stats

    # ---- tables -----------------------------------------------------------------

    @property
    def chunks(self):
        """``/chunks``: one row per executed chunk (the run's and, on a first run, the
        sampling blocks), ordered by rank, thread, start time. Columns: rank, thread,
        node, begin, end, t_start, t_end (s since the rank entered the run), status,
        sampled (bool), and the derived items (end - begin) and duration_s."""
        c = self._raw["chunks"]
        df = pd.DataFrame({k: c[k] for k in ("rank", "thread", "node", "begin", "end",
                                             "t_start", "t_end", "status")})
        df["sampled"] = c["sampled"] != 0
        df["items"] = (c["end"] - c["begin"]).astype(np.uint64)
        df["duration_s"] = c["t_end"] - c["t_start"]
        return df

    @property
    def run_chunks(self):
        """The rows of ``chunks`` that the run executed (``sampled`` false): they
        tile ``[0, n_items)`` exactly."""
        df = self.chunks
        return df[~df["sampled"]].reset_index(drop=True)

    @property
    def workers(self):
        """``/workers``: one row per rank and thread of the run. Columns: rank, thread,
        node, items, chunks, busy_s, dispatch_s, idle_s, data_s, failures (ranges),
        taken (of items, those run from other workers' static blocks; 0 in files
        written before the field existed)."""
        w = self._raw["workers"]
        return pd.DataFrame({k: w[k] for k in ("rank", "thread", "node", "items", "chunks",
                                               "busy_s", "dispatch_s", "idle_s", "data_s",
                                               "failures", "taken")})

    @property
    def ranks(self):
        """One row per rank that ran: the sums of its workers (threads, items, chunks,
        busy_s, dispatch_s, idle_s, data_s, failures), its node and host, and end_s,
        when its last run chunk ended (s since it entered the run)."""
        w = self.workers
        cols = ["items", "chunks", "busy_s", "dispatch_s", "idle_s", "data_s", "failures"]
        g = w.groupby("rank", sort=True)
        df = g[cols].sum()
        df.insert(0, "threads", g.size())
        df.insert(0, "node", g["node"].first())
        df = df.reset_index()
        hosts = dict(zip(self._raw["nodes"]["node"].tolist(), self._raw["nodes"]["host"]))
        df.insert(2, "host", [hosts.get(n, "") for n in df["node"]])
        c = self.run_chunks
        ends = c.groupby("rank")["t_end"].max() if len(c) else pd.Series(dtype=float)
        df["end_s"] = [float(ends.get(r, 0.0)) for r in df["rank"]]
        return df

    @property
    def candidates(self):
        """``/plan/candidates``: every plan the planner predicted, fastest first.
        Columns: ranks, threads, workers (ranks x threads), schedule, chunk,
        predicted_s, the predicted terms startup_s, compute_s, dispatch_s,
        imbalance_s, serial_s, data_s, and chosen (bool)."""
        c = self._raw["candidates"]
        df = pd.DataFrame({k: c[k] for k in ("ranks", "threads")})
        df["workers"] = df["ranks"].astype(np.int64) * df["threads"].astype(np.int64)
        df["schedule"] = pd.Series(c["schedule"], dtype=object)
        for k in ("chunk", "predicted_s", "startup_s", "compute_s", "dispatch_s",
                  "imbalance_s", "serial_s", "data_s"):
            df[k] = c[k]
        df["chosen"] = c["chosen"] != 0
        return df

    @property
    def terms(self):
        """``/overheads``: the model's terms, predicted beside measured, indexed by
        term (startup, compute, dispatch, imbalance, serial, data, total). Columns:
        predicted_s, measured_s, difference_s (measured - predicted) and share
        (measured over the wall time)."""
        t = self._raw["terms"]
        wall = self._raw["attrs"]["wall_s"]
        df = pd.DataFrame({"predicted_s": t["predicted_s"], "measured_s": t["measured_s"]},
                          index=pd.Index(list(t["term"]), name="term"))
        df["difference_s"] = df["measured_s"] - df["predicted_s"]
        df["share"] = df["measured_s"] / wall if wall > 0 else 0.0
        return df

    @property
    def nodes(self):
        """``/system``: one row per node of the communicator. Columns: node, host,
        cpu_model, ranks, ranks_used, cores, pus, numa_nodes, shared (bool: the
        ranks' CPU sets overlap), mem_bytes, pus_bound (CPUs in the ranks' bindings;
        0 in files written before it)."""
        n = self._raw["nodes"]
        df = pd.DataFrame({k: n[k] for k in ("node", "host", "cpu_model", "ranks",
                                             "ranks_used", "cores", "pus", "numa_nodes")})
        df["shared"] = n["shared"] != 0
        df["mem_bytes"] = n["mem_bytes"]
        df["pus_bound"] = n["pus_bound"]
        return df

    @property
    def failures(self):
        """``/failures``: failed item ranges, sorted. Columns: begin, end, items, code
        (the kernel's return value)."""
        f = self._raw["failures"]
        df = pd.DataFrame({"begin": f["begin"], "end": f["end"]})
        df["items"] = (f["end"] - f["begin"]).astype(np.uint64)
        df["code"] = f["code"]
        return df

    @property
    def model(self):
        """``/model``: the model's inputs, indexed by name, with a ``value`` and a
        ``unit`` column ("" for ratios and names)."""
        m = self._raw["model"]
        names = list(_profile._MODEL)
        return pd.DataFrame({"value": pd.Series([m[k] for k in names], index=names,
                                                dtype=object),
                             "unit": [_profile._MODEL[k][2] for k in names]}).rename_axis("name")

    @property
    def cost_profile(self):
        """``/model/cost_profile``: per-item cost over equal item ranges. Columns:
        bin, begin, end (items), item_s (s per item)."""
        cost = self._raw["cost_profile"]
        n, bins = self._raw["attrs"]["n_items"], len(cost)
        edges = [n * i // bins for i in range(bins + 1)] if bins else [0]
        return pd.DataFrame({"bin": np.arange(bins), "begin": np.array(edges[:-1], np.uint64),
                             "end": np.array(edges[1:], np.uint64), "item_s": cost})

    @property
    def findings(self):
        """The bottlenecks and notes of ``amorsize report`` as a DataFrame, in its
        order. Columns: kind, severity (HIGH, MEDIUM, LOW, INFO), share (of the wall
        time, NaN when not a time), value, thresholds (LOW, MEDIUM, HIGH) and text
        (the report's sentence)."""
        rows = _findings.findings(self)
        return pd.DataFrame([{"kind": f.kind, "severity": f.severity, "share": f.share,
                              "value": f.value, "thresholds": f.thresholds, "text": f.text}
                             for f in rows],
                            columns=["kind", "severity", "share", "value", "thresholds",
                                     "text"])

    def _findings_for(self, path):
        return _findings.findings(self, path)

    def summary(self, path=None):
        """The report of ``amorsize report PATH`` as one string (``path`` is the name
        it prints, the profile's own path by default)."""
        from .report import report
        return report(self, self.path if path is None else path)
