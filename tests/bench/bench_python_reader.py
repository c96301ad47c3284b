"""Benchmark of the Python reader: time and memory to open profiles, against plain
h5py (no checks) and against the C tool.

    /usr/bin/python3 tests/bench/bench_python_reader.py [BUILD_DIR] [--repeat N]

Writes three profiles with the suite's profile_writer (2 ranks: 3,000 items in
about 100 chunks, 20,000 and 1,000,000 one-item chunks), then, alternating the
contenders within each repetition, times:

  open+chunks   amorsize.open(path).chunks (seal, CRC, structure and row checks)
  h5py raw      h5py.File(path)["chunks"][:] into a DataFrame, no check at all
  py summary    `python -m amorsize summary` as a process (imports included)
  C report      `amorsize report` as a process

and prints medians and ratios, and the peak resident memory of a process that
opens the largest profile each way. Figures: docs/BENCHMARKS.md.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "src", "python"))

import h5py  # noqa: E402
import pandas as pd  # noqa: E402

import amorsize  # noqa: E402

PY_ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src", "python"))


def write_profiles(build, out):
    env = dict(os.environ, AMZ_PROGRESS="off", AMZ_CACHE_DIR=os.path.join(out, "cache"))
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    paths = []
    for name, args in (("small", ["3000"]), ("20k", ["20000", "1"]), ("1m", ["1000000", "1"])):
        path = os.path.join(out, f"{name}.h5")
        subprocess.run(["mpiexec", "--oversubscribe", "--bind-to", "none", "-n", "2",
                        os.path.join(build, "tests", "profile_writer"), path, *args],
                       env=env, check=True, capture_output=True, timeout=600)
        paths.append(path)
    return paths


def t_open(path):
    t = time.perf_counter()
    n = len(amorsize.open(path).chunks)
    return time.perf_counter() - t, n


def t_raw(path):
    t = time.perf_counter()
    with h5py.File(path, "r") as f:
        n = len(pd.DataFrame(f["chunks"][:]))
    return time.perf_counter() - t, n


def t_proc(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=600)
    return time.perf_counter() - t


def peak_rss_mb(code, path):
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child
    # would report this (large) process's peak.
    r = subprocess.run([sys.executable, "-c", code + "\nprint([l.split()[1] for l in "
                        "open('/proc/self/status') if l.startswith('VmHWM')][0])", path],
                       env=PY_ENV, check=True, capture_output=True, text=True, timeout=600)
    return int(r.stdout.split()[-1]) / 1024


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    cli = os.path.join(build, "amorsize")
    with tempfile.TemporaryDirectory() as out:
        paths = write_profiles(build, out)
        print(f"{'profile':8} {'chunks':>9} {'open+chunks':>12} {'h5py raw':>10} {'ratio':>6} "
              f"{'py summary':>11} {'C report':>9} {'ratio':>6}")
        for path in paths:
            res = {"open": [], "raw": [], "py": [], "c": []}
            n = 0
            for _ in range(repeat):  # alternate the contenders within a repetition
                dt, n = t_open(path)
                res["open"].append(dt)
                res["raw"].append(t_raw(path)[0])
                res["py"].append(t_proc([sys.executable, "-m", "amorsize", "summary", path],
                                        PY_ENV))
                res["c"].append(t_proc([cli, "report", path]))
            m = {k: statistics.median(v) for k, v in res.items()}
            print(f"{os.path.basename(path):8} {n:>9} {m['open']:>11.3f}s {m['raw']:>9.3f}s "
                  f"{m['open'] / m['raw']:>6.2f} {m['py']:>10.3f}s {m['c']:>8.3f}s "
                  f"{m['py'] / m['c']:>6.1f}")
        big = paths[-1]
        base = peak_rss_mb("import sys, h5py, pandas", big)
        raw = peak_rss_mb("import sys, h5py, pandas as pd\nf = h5py.File(sys.argv[1], 'r')\n"
                          "d = pd.DataFrame(f['chunks'][:])", big)
        ours = peak_rss_mb("import sys, amorsize\np = amorsize.open(sys.argv[1])\nc = p.chunks", big)
        print(f"peak RSS, 1m profile: imports alone {base:.0f} MB, h5py raw {raw:.0f} MB, "
              f"amorsize.open + chunks {ours:.0f} MB")
        print(f"(medians of {repeat}; the machine: {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
