"""Many runs side by side: one tidy DataFrame for sweeps."""
import os

import pandas as pd

from ._errors import ProfileError
from .profile import Profile

#: Root attributes copied into every row of compare() as run metadata.
META = ("task", "kind", "mode", "schedule", "chunk", "n_items", "items_done", "items_failed",
        "sampled_items", "run_index", "ranks_launched", "ranks_used", "nodes", "threads",
        "wall_s", "predicted_s", "predicted_serial_s", "setup_s", "mean_item_s", "created",
        "library_version", "host", "slurm_job_id", "mpi_library", "command_line")


def _load(x, verify):
    if isinstance(x, Profile):
        return x
    return Profile(x, verify=verify)


def compare(profiles, by="run", verify=True):
    """Runs side by side.

    ``profiles`` is a list of paths or Profile objects. With ``by="run"`` (the
    default) the result has one row per run: ``file``, the run's metadata (root
    attributes: task, schedule, chunk, n_items, ranks_used, threads, wall_s,
    predicted_s, ...), ``workers`` (ranks x threads), ``error`` ((measured -
    predicted) / predicted), ``speedup`` (the first run's wall time over this
    one's, as ``amorsize compare``), ``efficiency`` (speedup over the workers),
    ``lower_bound_s``, ``busy_s``, and ``<term>_predicted_s`` / ``<term>_measured_s``
    for every model term. With ``by="term"`` it has one row per run and term:
    ``file``, the same metadata, ``term``, ``predicted_s`` (the term's), ``measured_s``
    and ``share`` (of the wall time); the run's own times are then ``run_wall_s``
    and ``run_predicted_s``.

    Raises ProfileError for the first file that is not a readable profile, and
    ValueError for an empty list or an unknown ``by``.
    """
    if by not in ("run", "term"):
        raise ValueError(f"by is {by!r}, expected 'run' or 'term'")
    if isinstance(profiles, (str, bytes, os.PathLike, Profile)):
        profiles = [profiles]
    ps = [_load(x, verify) for x in profiles]
    if not ps:
        raise ValueError("compare needs at least one profile")
    base = ps[0].attrs["wall_s"]
    rows = []
    for p in ps:
        a, st = p.attrs, p.stats
        meta = {"file": p.path}
        meta.update({k: a[k] for k in META})
        meta["workers"] = a["ranks_used"] * a["threads"]
        meta["error"] = st.pred_error
        meta["speedup"] = base / a["wall_s"] if a["wall_s"] > 0 else 0.0
        meta["efficiency"] = st.efficiency
        meta["lower_bound_s"] = st.lower_bound_s
        meta["busy_s"] = st.busy_s
        t = p.terms
        if by == "run":
            for term, r in t.iterrows():
                meta[f"{term}_predicted_s"] = r["predicted_s"]
                meta[f"{term}_measured_s"] = r["measured_s"]
            rows.append(meta)
        else:
            meta["run_wall_s"] = meta.pop("wall_s")
            meta["run_predicted_s"] = meta.pop("predicted_s")
            for term, r in t.iterrows():
                row = dict(meta)
                row.update({"term": term, "predicted_s": r["predicted_s"],
                            "measured_s": r["measured_s"], "share": r["share"]})
                rows.append(row)
    return pd.DataFrame(rows)


def compare_text(profiles, names=None, verify=True):
    """The table of ``amorsize compare`` (text format) as one string."""
    from .findings import cstr, fmt_seconds as T
    ps = [_load(x, verify) for x in profiles]
    names = names or [p.path for p in ps]
    if len(ps) < 2:
        raise ValueError("compare needs at least two profiles")
    base = ps[0].attrs["wall_s"]
    out = ["%-24s %-18s %10s %11s %-9s %7s %10s %10s %7s %8s %6s" % (
        "file", "task", "items", "ranks x thr", "schedule", "chunk", "wall", "predicted", "error",
        "speedup", "eff")]
    for p, name in zip(ps, names):
        a, st = p.attrs, p.stats
        speedup = base / a["wall_s"] if a["wall_s"] > 0 else 0.0
        out.append("%s %s %10d %11s %s %7d %10s %10s %+6.1f%% %7.2fx %6.2f" % (
            cstr(name, 24, 24), cstr(a["task"], 18, 18), a["n_items"],
            "%d x %d" % (a["ranks_used"], a["threads"]), cstr(a["schedule"], 9), a["chunk"],
            T(a["wall_s"]), T(a["predicted_s"]),
            100.0 * st.pred_error, speedup, st.efficiency))
    out.append("(speedup: the first file's wall time over each run's; eff: each run's kernel "
               "time over its workers and wall time)")
    return "\n".join(out) + "\n"


__all__ = ["compare", "compare_text", "ProfileError"]
