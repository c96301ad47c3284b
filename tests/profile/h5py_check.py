"""Reads a profile with h5py (Debian's python3-h5py, a reader no one here wrote) and
checks the fields docs/PROFILE_FORMAT.md documents, and that they agree.

    /usr/bin/python3 h5py_check.py PROFILE.h5 [--expect-ranks R] [--expect-slurm JOB]
                                              [--expect-mpi openmpi|mpich|other|none]

Exit 0 when every check passes, 1 with a list of failures, 77 when h5py is missing.
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the test script installs python3-h5py; say so if it did not
    print(f"SKIP: h5py is not importable by {sys.executable}: {e}")
    sys.exit(77)

path = sys.argv[1]
expect_ranks = int(sys.argv[sys.argv.index("--expect-ranks") + 1]) if "--expect-ranks" in sys.argv else None
fails = []


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def check(ok, what):
    if not ok:
        fails.append(what)


ROOT = {
    "schema_version": int, "library_version": str, "created": str, "task": str, "kind": str,
    "mode": str, "schedule": str, "command_line": str, "host": str, "n_items": int,
    "chunk": int, "items_done": int, "items_failed": int, "sampled_items": int,
    "chunks_total": int, "chunks_dropped": int, "run_index": int, "ranks_launched": int,
    "ranks_used": int, "nodes": int, "threads": int, "wall_s": float, "predicted_s": float,
    "predicted_serial_s": float, "setup_s": float, "mean_item_s": float,
}
TABLES = {
    "chunks": ["rank", "thread", "node", "begin", "end", "t_start", "t_end", "status", "sampled"],
    "workers": ["rank", "thread", "node", "items", "chunks", "busy_s", "dispatch_s", "idle_s",
                "data_s", "failures"],
    "plan/candidates": ["ranks", "threads", "schedule", "chunk", "predicted_s", "startup_s",
                        "compute_s", "dispatch_s", "imbalance_s", "serial_s", "data_s", "chosen"],
    "overheads": ["term", "predicted_s", "measured_s"],
    "system": ["node", "host", "cpu_model", "ranks", "ranks_used", "cores", "pus", "numa_nodes",
               "shared", "mem_bytes"],
    "failures": ["begin", "end", "code"],
}
MODEL = ["sampled_items", "sample_blocks", "block_items", "mean_s", "median_s", "mad_s", "cv",
         "max_item_s", "trend", "cpu_ratio", "contention", "rel_error", "sample_wall_s",
         "stop_reason", "thread_start_s", "pool_wake_s", "chunk_static_s", "chunk_atomic_s",
         "chunk_contended_s", "chunk_awf_s", "latency_shm_s", "bandwidth_shm_Bps",
         "latency_net_s", "bandwidth_net_Bps", "counter_s"]

with h5py.File(path, "r") as f:
    a = f.attrs
    for name, typ in ROOT.items():
        check(name in a, f"root attribute {name} missing")
        if name in a:
            v = a[name]
            # Strings are fixed-length UTF-8: h5py hands them out as bytes.
            ok = isinstance(v, (str, bytes)) if typ is str else (
                np.issubdtype(type(v), np.integer) if typ is int else np.issubdtype(type(v), np.floating))
            check(ok, f"root attribute {name} is {type(v).__name__}, expected {typ.__name__}")
    check(a["schema_version"] == 1, "schema_version is not 1")
    for t, fields in TABLES.items():
        check(t in f, f"table {t} missing")
        if t in f:
            names = f[t].dtype.names or ()
            for fld in fields:
                check(fld in names, f"table {t} has no field {fld}")
    for m in MODEL:
        check(m in f["model"].attrs, f"model attribute {m} missing")
    check("why" in f["plan"].attrs, "plan attribute why missing")
    prof = f["model/cost_profile"][:]
    check(prof.ndim == 1 and len(prof) > 0 and np.all(np.isfinite(prof)), "model/cost_profile")

    n = int(a["n_items"])
    chunks = f["chunks"][:]
    run = chunks[chunks["sampled"] == 0]
    samp = chunks[chunks["sampled"] != 0]
    # The run's chunks tile [0, N): sorted, each begins where the previous ended.
    order = np.argsort(run["begin"], kind="stable")
    b, e = run["begin"][order].astype(np.int64), run["end"][order].astype(np.int64)
    if a["chunks_dropped"] == 0:
        check(len(b) == 0 and n == 0 or (b[0] == 0 and e[-1] == n and np.all(b[1:] == e[:-1])),
              "run chunks do not tile [0, n_items)")
        check(len(run) == a["chunks_total"], f"{len(run)} run chunks, chunks_total {a['chunks_total']}")
    check(np.all(chunks["t_end"] >= chunks["t_start"]), "a chunk ends before it starts")
    check(np.all(samp["t_start"] < 0) and np.all(run["t_start"] >= 0),
          "sampling blocks must have negative times, run chunks non-negative")
    check(int((samp["end"] - samp["begin"]).sum()) == a["sampled_items"],
          "sampling blocks do not add up to sampled_items")
    w = f["workers"][:]
    check(len(w) == a["ranks_used"] * a["threads"], f"{len(w)} worker rows, expected ranks x threads")
    check(int(w["items"].sum()) + int(a["sampled_items"]) == n,
          "worker items + sampled items differ from n_items")
    check(int(a["items_done"]) + int(a["items_failed"]) == n, "items done + failed != n_items")
    fl = f["failures"][:]
    check(int((fl["end"] - fl["begin"]).sum()) == a["items_failed"], "failures do not add up")
    c = f["plan/candidates"][:]
    check(int(c["chosen"].sum()) == 1, "not exactly one chosen candidate")
    ch = c[c["chosen"] == 1][0]
    check(ch["ranks"] == a["ranks_used"] and ch["threads"] == a["threads"]
          and ch["schedule"].decode() == text(a["schedule"]), "chosen candidate differs from the run")
    o = f["overheads"][:]
    terms = [t.decode() for t in o["term"]]
    check(terms == ["startup", "compute", "dispatch", "imbalance", "serial", "data", "total"],
          f"overheads terms {terms}")
    check(abs(o["measured_s"][-1] - a["wall_s"]) <= 1e-9 * max(1.0, a["wall_s"]),
          "measured total differs from wall_s")
    s = f["system"][:]
    check(int(s["ranks"].sum()) == a["ranks_launched"], "system ranks != ranks_launched")
    check(int(s["ranks_used"].sum()) == a["ranks_used"], "system ranks_used != ranks_used")
    if expect_ranks is not None:
        check(a["ranks_used"] == expect_ranks, f"ranks_used {a['ranks_used']}, expected {expect_ranks}")
        check(set(np.unique(chunks["rank"])) == set(range(expect_ranks)),
              "chunk rows do not come from every rank")

# Under Slurm (or a test that pretends to be), the job's variables are recorded.
if "--expect-slurm" in sys.argv:
    with h5py.File(path, "r") as f:
        sl = text(f.attrs.get("slurm", b""))
        want = sys.argv[sys.argv.index("--expect-slurm") + 1]
        check(text(f.attrs.get("slurm_job_id", b"")) == want, "slurm_job_id not recorded")
        check(f"SLURM_JOB_ID={want}" in sl and "SLURM_CPUS_PER_TASK=" in sl,
              f"slurm provenance incomplete: {sl!r}")

# The MPI library that ran, by family (the build's): none for threads-only runs.
if "--expect-mpi" in sys.argv:
    family = sys.argv[sys.argv.index("--expect-mpi") + 1]
    # Another family ("other"): any library string will do.
    prefix = {"openmpi": "Open MPI v", "mpich": "MPICH Version: ", "none": None}.get(family, "")
    with h5py.File(path, "r") as f:
        lib = text(f.attrs["mpi_library"]) if "mpi_library" in f.attrs else None
    if prefix is None:
        check(lib is None, f"mpi_library {lib!r} in a threads-only profile")
    else:
        check(lib is not None and lib.startswith(prefix) and "(MPI " in lib,
              f"mpi_library {lib!r}, expected '{prefix}... (MPI x.y)'")

if fails:
    print(f"h5py_check {path}: {len(fails)} failure(s)")
    for x in fails:
        print("  " + x)
    sys.exit(1)
print(f"h5py_check {path}: OK ({len(ROOT)} root attributes, {len(TABLES)} tables, {len(MODEL)} model fields)")
