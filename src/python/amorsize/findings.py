"""Derived figures and bottleneck findings of a profile, as data.

These are the rules of the C library's bottleneck analysis (``RULES`` and
``amz__findings_judge`` in ``src/analysis/findings.c``, which ``amorsize report`` prints;
the figures as ``amz_cli_stats`` in ``src/cli/common.c`` derives them), with the
same thresholds and the same wording: ``tests/python/test_summary.py`` checks that ``python -m amorsize
summary`` prints what ``amorsize report`` prints, byte for byte, on every profile
the suite writes, so the two cannot drift apart unnoticed.
"""
import math
from dataclasses import dataclass, field

#: Severity names from the most to the least serious. INFO findings are notes,
#: not bottlenecks: they never count as "a finding above its threshold".
SEVERITIES = ("HIGH", "MEDIUM", "LOW", "INFO")

#: The thresholds of each kind's value, (LOW, MEDIUM, HIGH) as the C library's
#: ``RULES`` in ``src/analysis/findings.c`` (None where a rule has none; "too little
#: work" grades downwards, the two kernel notes have one limit).
#: ``tests/python/test_summary.py`` checks them against ``amorsize findings --rules``.
RULES = {
    "failures": (None, None, None),
    "ranks": (0.05, 0.10, 0.25),
    "start-up": (0.05, 0.10, 0.25),
    "dispatch": (0.02, 0.05, 0.15),
    "imbalance": (0.05, 0.10, 0.25),
    "data movement": (0.05, 0.15, 0.35),
    "serial part": (0.05, 0.15, 0.35),
    "memory": (0.15, 0.3, 0.6),
    "oversubscription": (None, None, None),
    "binding": (0.1, 0.25, 0.5),
    "contention": (0.25, 0.5, 1.0),
    "too little work": (None, 1e-3, 1e-4),
    "prediction": (0.15, 0.30, 1.0),
    "record bound": (None, None, None),
    "waiting kernel": (0.5, None, None),
    "threaded kernel": (1.25, None, None),
    "slow worker": (0.15, 0.3, 0.5),
}


def cstr(s, width=0, precision=None):
    """``s`` as C's ``%-WIDTH.PRECISIONs`` prints it: padded and cut by UTF-8 bytes,
    not characters. A cut inside a character keeps its bytes (as surrogate escapes,
    which the command line writes back as the same bytes)."""
    b = s.encode("utf-8", "surrogateescape")
    if precision is not None:
        b = b[:precision]
    return (b + b" " * max(0, width - len(b))).decode("utf-8", "surrogateescape")


def fmt_seconds(s):
    """A duration as the C tools print it: three significant digits and a unit
    (``"14.5 ms"``, ``"191 ns"``, ``"0 s"``)."""
    a = abs(s)
    if a == 0.0:
        return "0 s"
    if a >= 1.0:
        return "%.3g s" % s
    if a >= 1e-3:
        return "%.3g ms" % (s * 1e3)
    if a >= 1e-6:
        return "%.3g us" % (s * 1e6)
    return "%.3g ns" % (s * 1e9)


def severity(frac, low, med, high):
    """HIGH, MEDIUM or LOW when ``frac`` reaches that threshold, else None."""
    if frac >= high:
        return "HIGH"
    if frac >= med:
        return "MEDIUM"
    if frac >= low:
        return "LOW"
    return None


@dataclass
class Stats:
    """Figures derived from the tables, as ``amorsize report`` computes them.

    ``speedup`` is the kernel time over the wall time; ``efficiency`` is the
    speedup over the workers (the share of the workers' time spent in the
    kernel); ``lower_bound_s`` is the larger of the kernel time over the workers
    and the costliest sampled item (no schedule beats it); ``pred_error`` is
    (measured - predicted) / predicted.
    """
    workers: int = 0
    busy_s: float = 0.0
    dispatch_s: float = 0.0
    idle_s: float = 0.0
    data_s: float = 0.0
    run_chunks: int = 0
    t_min: float = 0.0
    t_max: float = 0.0
    longest_item_s: float = 0.0
    lower_bound_s: float = 0.0
    efficiency: float = 0.0
    speedup: float = 0.0
    pred_error: float = 0.0


def stats(p):
    """The Stats of a Profile."""
    a, w, c = p.attrs, p._raw["workers"], p._raw["chunks"]
    s = Stats()
    s.workers = len(w["rank"])
    # Sums in row order, as the C loop adds them (the same float rounding).
    for k in ("busy_s", "dispatch_s", "idle_s", "data_s"):
        total = 0.0
        for v in w[k].tolist():
            total += v
        setattr(s, k, total)
    if len(c["t_start"]):
        s.t_min = float(c["t_start"].min())
        s.t_max = float(c["t_end"].max())
    s.run_chunks = int((c["sampled"] == 0).sum())
    s.longest_item_s = p._raw["model"]["max_item_s"]
    s.lower_bound_s = s.busy_s / s.workers if s.workers else 0.0
    if s.longest_item_s > s.lower_bound_s:
        s.lower_bound_s = s.longest_item_s
    wall = a["wall_s"]
    s.efficiency = s.busy_s / s.workers / wall if wall > 0 and s.workers else 0.0
    s.speedup = s.busy_s / wall if wall > 0 else 0.0
    pred = a["predicted_s"]
    s.pred_error = (wall - pred) / pred if pred > 0 else 0.0
    return s


@dataclass
class Finding:
    """One bottleneck or note.

    ``kind`` names the rule (``failures``, ``ranks``, ``start-up``, ``dispatch``,
    ``imbalance``, ``data movement``, ``serial part``, ``memory``,
    ``oversubscription``, ``binding``, ``contention``, ``too little work``,
    ``prediction``, ``record bound``, ``waiting kernel``, ``threaded kernel``);
    ``severity`` is one of SEVERITIES; ``share`` is the fraction of the wall time it costs (NaN when the
    rule is not a share of time); ``value`` is the measured figure the rule
    compared with ``thresholds`` (LOW, MEDIUM, HIGH for graded rules; the levels of
    predicted work for "too little work", the CPU/wall ratio for "waiting kernel"
    and "threaded kernel";
    empty for rules of fixed severity); ``text`` is the line ``amorsize report``
    prints after ``[SEVERITY] ``.
    """
    kind: str
    severity: str
    text: str
    share: float = math.nan
    value: float = math.nan
    thresholds: tuple = field(default_factory=tuple)


def _rank_ends(p):
    """Mean and last end of the ranks' run chunks, and how many ranks ran any."""
    a, c = p.attrs, p._raw["chunks"]
    if a["ranks_used"] < 2:
        return 0.0, 0.0, 0
    end = {}
    for r, t, smp in zip(c["rank"].tolist(), c["t_end"].tolist(), c["sampled"].tolist()):
        if not smp and t > end.get(r, 0.0):
            end[r] = t
    ends = [end[r] for r in sorted(end) if end[r] > 0]
    if not ends:
        return 0.0, 0.0, 0
    total = 0.0
    for e in ends:
        total += e
    return total / len(ends), max(ends), len(ends)


def _term(p, name):
    t = p._raw["terms"]
    for i, n in enumerate(t["term"]):
        if n == name:
            return float(t["measured_s"][i])
    return 0.0


def slowest_worker(density, n_items, chunks, threads, workers, fixed):
    """The slowest worker of a run: (worker, speed, expected, lost share), (-1, 1.0,
    1.0, 0.0) when none stands out; ``expected`` is its speed over the one the cost
    profile expected, exp(its median). ``amz__slowest_worker`` in ``src/analysis/findings.c``, step for
    step: per worker, the median over its run chunks of log(the chunk's cost in the
    cost profile / its time), against the other workers' median, beyond 4 standard
    errors (1.858 x MAD / sqrt(chunks)) and 0.05, with at least 16 chunks. A chunk's
    cost is ``amz__workload_range_cost`` over the profile's bins (``workload.c``)."""
    import numpy as np
    none = (-1, 1.0, 1.0, 0.0)
    d = np.asarray(density, dtype=np.float64)
    bins, n = len(d), int(n_items)
    if workers < 2 or bins == 0 or bins > 64 or n == 0:
        return none
    # Bin j holds items [n j / bins, n (j + 1) / bins) (integer division, as C).
    edges = np.array([n * j // bins for j in range(bins + 1)], dtype=np.float64)
    cum = np.concatenate(([0.0], np.cumsum(d * np.diff(edges))))

    def cost_upto(x):  # x: item indices (int64)
        xf = x.astype(np.float64)
        j = np.minimum((xf * float(bins) / float(n)).astype(np.int64), bins - 1)
        part = cum[j] + d[j] * (xf - j.astype(np.float64) * float(n) / float(bins))
        return np.where(x >= n, cum[bins], part)

    # At most 4096 + 64 x workers chunks, every ceil(n / that)-th row, as the C rule
    # reads them.
    nc = len(chunks["sampled"])
    cap = 4096 + 64 * workers
    stride = (nc + cap - 1) // cap if nc > cap else 1
    rows = np.arange(0, nc, stride)
    keep = rows[np.asarray(chunks["sampled"])[rows] == 0]
    worker = (np.asarray(chunks["rank"], dtype=np.int64) * threads
              + np.asarray(chunks["thread"], dtype=np.int64))[keep]
    begin = np.asarray(chunks["begin"]).astype(np.int64)[keep]
    end = np.asarray(chunks["end"]).astype(np.int64)[keep]
    secs = (np.asarray(chunks["t_end"], dtype=np.float64)
            - np.asarray(chunks["t_start"], dtype=np.float64))[keep]
    ok = (worker >= 0) & (worker < workers) & (secs > 0)
    e = np.where(end > begin, cost_upto(end) - cost_upto(begin), 0.0)
    ok &= e > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(np.where(ok, e, 1.0) / np.where(ok, secs, 1.0))

    def median(x):
        x = np.sort(x)
        k = len(x)
        return float(x[k // 2]) if k % 2 else 0.5 * (float(x[k // 2 - 1]) + float(x[k // 2]))

    med, se, slowest = {}, {}, -1
    for w in range(workers):
        x = lr[ok & (worker == w)]
        if len(x) < 16:
            continue
        med[w] = median(x)
        se[w] = 1.858 * median(np.abs(x - med[w])) / math.sqrt(len(x))
        if slowest < 0 or med[w] < med[slowest]:
            slowest = w
    if len(med) < 2:
        return none
    ref = median(np.array([v for w, v in med.items() if w != slowest]))
    gap = ref - med[slowest]
    if not (gap > 4.0 * se[slowest] and gap > 0.05):
        return none
    speed = math.exp(med[slowest] - ref)
    expected = math.exp(med[slowest])
    if fixed:
        return slowest, speed, expected, 1.0 - speed
    total = 0.0
    for w in sorted(med):
        total += math.exp(med[w] - ref) if med[w] < ref else 1.0
    return slowest, speed, expected, 1.0 - total / len(med)


def findings(p, path=None):
    """The findings of a Profile, in the order ``amorsize report`` lists them.

    ``path`` is the file name that the failures finding quotes (the profile's own
    path by default).
    """
    a, m, st = p.attrs, p._raw["model"], p.stats
    path = p.path if path is None else path
    T = fmt_seconds
    out = []
    wall = a["wall_s"] if a["wall_s"] > 0 else 1e-12
    # Blocks that stay where they were dealt (amz__blocks_fixed): cyclic chunks, and
    # static blocks across ranks (inside a rank the threads take from each other).
    fixed = a["schedule"] == "cyclic" or (a["schedule"] == "static" and a["ranks_used"] > 1)

    def add(kind, sev, text, share=math.nan, value=math.nan, thresholds=()):
        out.append(Finding(kind, sev, text, share, value, tuple(thresholds)))

    if a["items_failed"] > 0:
        add("failures", "HIGH",
            f"failures: {a['items_failed']} items failed in {len(p._raw['failures']['begin'])} "
            f"range(s); 'amorsize chunks {path}' lists the chunks with their status codes.",
            value=a["items_failed"])
    mean_end, last_end, nr = _rank_ends(p)
    th = RULES["ranks"]
    if nr > 1 and last_end > 0:
        frac = (last_end - mean_end) / last_end
        sev = severity(frac, *th)
        if sev:
            advice = ("their blocks cost unequal amounts: a dynamic schedule balances them "
                      "(AMZ_SCHEDULE=factoring)." if fixed else
                      "a node or rank is slower than the others, or its last chunks were "
                      "large: a smaller minimum chunk evens the finish.")
            add("ranks", sev, "ranks: they end %.0f%% before the last one on average; %s"
                % (100.0 * frac, advice), frac, frac, th)
    su, di, im = _term(p, "startup"), _term(p, "dispatch"), _term(p, "imbalance")
    da, se = _term(p, "data"), _term(p, "serial")
    th = RULES["start-up"]
    sev = severity(su / wall, *th)
    if sev:
        add("start-up", sev, "start-up: %.0f%% of the run (%s) before the workers started; the "
            "loop is short for %d workers: give each call more items, or reuse the plan so its "
            "threads stay warm." % (100.0 * su / wall, T(su), st.workers), su / wall, su / wall,
            th)
    th_d = RULES["dispatch"]
    sev = severity(di / wall, *th_d)
    if sev:
        per = st.dispatch_s / st.run_chunks if st.run_chunks else 0.0
        suggest = (a["chunk"] * 4) % 2**64 if a["chunk"] else 4  # uint64 arithmetic, as C
        add("dispatch", sev, "dispatch: %.0f%% of the run between chunks (%s per chunk, %d "
            "chunks); use larger chunks, e.g. AMZ_CHUNK=%d." % (
                100.0 * di / wall, T(per), st.run_chunks, suggest),
            di / wall, di / wall, th_d)
    th = RULES["imbalance"]
    sev = severity(im / wall, *th)
    if sev:
        advice = ("costs are uneven: a dynamic schedule (factoring, guided) balances them."
                  if fixed else
                  "the last chunks are too large: a smaller (minimum) chunk evens the finish.")
        add("imbalance", sev, "imbalance: workers idle %.0f%% of the run at the end; %s"
            % (100.0 * im / wall, advice), im / wall, im / wall, th)
    th_x = RULES["data movement"]
    sev = severity(da / wall, *th_x)
    if sev:
        add("data movement", sev, "data movement: %.0f%% of the run moving items' data (%s); "
            "fewer, larger chunks move data in fewer messages, and kernels that read their "
            "inputs where they live (range mode) move none." % (100.0 * da / wall, T(da)),
            da / wall, da / wall, th_x)
    th_x = RULES["serial part"]
    sev = severity(se / wall, *th_x)
    if sev:
        add("serial part", sev, "serial part: %.0f%% of the run (%s) outside the parallel "
            "region (setup, collectives, result assembly); longer loops amortize it."
            % (100.0 * se / wall, T(se)), se / wall, se / wall, th_x)
    th_m = RULES["memory"]
    sev = severity(m["contention"] - 1.0, *th_m)
    if sev:
        add("memory", sev, "memory: items take x%.2f longer with all cores busy than alone; a "
            "shared resource (memory bandwidth, cache) limits scaling: fewer threads may run as "
            "fast, and better locality helps most." % m["contention"],
            value=m["contention"] - 1.0, thresholds=th_m)
    nd = p._raw["nodes"]
    for i in range(len(nd["node"])):
        workers = int(nd["ranks_used"][i]) * a["threads"]
        cores = int(nd["cores"][i])
        if cores > 0 and workers > cores:
            add("oversubscription", "HIGH", "oversubscription: node %d (%s) runs %d workers on "
                "%d cores: they take turns; launch fewer ranks or threads per node."
                % (nd["node"][i], nd["host"][i], workers, cores), value=workers / cores)
            break
        if nd["shared"][i] and nd["ranks_used"][i] > 1:
            add("binding", "LOW", "binding: the CPU sets of node %d's ranks overlap, so the OS "
                "may put two of them on one core; bind each rank to its own cores (mpirun "
                "--bind-to core, srun --cpu-bind=cores)." % nd["node"][i])
            break
    # CPUs of a node that the launcher's binding gave to no rank (threads only: that
    # the process may not use): idle whatever the plan. The first such node is named.
    th_b = RULES["binding"]
    for i in range(len(nd["node"])):
        pus, bound = int(nd["pus"][i]), int(nd["pus_bound"][i])
        if bound <= 0 or pus - bound <= 0:
            continue
        sev = severity((pus - bound) / pus, *th_b)
        if sev and a["kind"] == "mpi":
            add("binding", sev, "binding: node %d (%s): the ranks' bindings cover %d of its %d "
                "CPUs; %d idle whatever the plan. Bind each rank to more cores, or not at all: "
                "Open MPI mpirun --bind-to none (or --map-by slot:PE=N), MPICH mpiexec "
                "-bind-to none (or -bind-to core:N), Slurm srun -c N."
                % (nd["node"][i], nd["host"][i], bound, pus, pus - bound),
                value=(pus - bound) / pus, thresholds=th_b)
        elif sev:
            add("binding", sev, "binding: the process is bound to %d of the machine's %d CPUs; "
                "%d idle whatever the plan. Start it without the binding (taskset, numactl, a "
                "launcher's) or bind it to more CPUs." % (bound, pus, pus - bound),
                value=(pus - bound) / pus, thresholds=th_b)
        break
    run_items = int(p._raw["workers"]["items"].astype(object).sum()) if st.workers else 0
    if run_items > 0 and a["mean_item_s"] > 0 and st.busy_s > 0:
        per_item = st.busy_s / run_items
        expect = a["mean_item_s"] * (m["contention"] if m["contention"] > 1 else 1)
        th_c = RULES["contention"]
        sev = severity(per_item / expect - 1.0, *th_c)
        if sev:
            add("contention", sev, "contention: items ran x%.2f slower than sampled (%s against "
                "%s per item): other processes, frequency scaling or oversubscribed cores; check "
                "the binding and the machine's load." % (per_item / expect, T(per_item),
                                                         T(expect)),
                value=per_item / expect - 1.0, thresholds=th_c)
    if a["threads"] > 0 and a["ranks_launched"] > 0:
        who, speed, expected, lost = slowest_worker(p._raw["cost_profile"], a["n_items"],
                                          p._raw["chunks"], a["threads"],
                                          a["ranks_launched"] * a["threads"], fixed)
        th_w = RULES["slow worker"]
        sev = severity(1.0 - speed, *th_w) if who >= 0 else None
        if sev:
            name = ("rank %d, thread %d" % (who // a["threads"], who % a["threads"])
                    if a["kind"] == "mpi" else "thread %d" % who)
            advice = (": its blocks waited for it (a dynamic schedule balances around it: "
                      "AMZ_SCHEDULE=factoring)." if fixed else
                      ", the others taking over its items.")
            add("slow worker", sev, "slow worker: %s ran its items at %.0f%% of the other "
                "workers' median speed and at %.0f%% of the speed its items' cost profile "
                "expected (their sampled cost over its time); the run lost about %s (%.0f%%) to "
                "the slower workers%s Another process on its core, a slower core or node, or "
                "throttling: check the machine's load and the binding."
                % (name, 100.0 * speed, 100.0 * expected, T(lost * a["wall_s"]), 100.0 * lost,
                   advice),
                lost, 1.0 - speed, th_w)
    ps = a["predicted_serial_s"]
    _, medium, high = RULES["too little work"]
    if 0 < ps < medium:
        add("too little work", "HIGH" if ps < high else "MEDIUM",
            "too little work: the whole loop is %s of work; fixed costs dominate: batch several "
            "loops into one call." % T(ps), value=ps, thresholds=(medium, high))
    th_p = RULES["prediction"]
    if a["predicted_s"] > 0:
        sev = severity(abs(st.pred_error), *th_p)
        if sev:
            t = p._raw["terms"]
            worst, gap = None, 0.0
            for i, name in enumerate(t["term"]):
                if name == "total":
                    continue
                g = abs(float(t["measured_s"][i]) - float(t["predicted_s"][i]))
                if g > gap:
                    gap, worst = g, name
            add("prediction", sev, "prediction: the run took %+.0f%% against the prediction; the "
                "%s term missed most (%s). A second run of the same plan re-plans with the "
                "measured costs." % (100.0 * st.pred_error,
                                     "total" if worst is None else worst, T(gap)),
                value=st.pred_error, thresholds=th_p)
    if a["chunks_dropped"] > 0:
        add("record bound", "INFO", "%d chunks ran beyond the record bound and are not in the "
            "chunk table (the totals include them)." % a["chunks_dropped"],
            value=a["chunks_dropped"])
    waiting = RULES["waiting kernel"][0]
    if 0 < m["cpu_ratio"] < waiting:
        add("waiting kernel", "INFO", "the kernel waits (CPU/wall %.2f): more threads than cores "
            "can pay." % m["cpu_ratio"], value=m["cpu_ratio"], thresholds=(waiting,))
    threaded = RULES["threaded kernel"][0]
    if m["cpu_ratio"] > threaded:
        add("threaded kernel", "INFO", "the kernel runs threads of its own (CPU/wall %.2f: cores "
            "per call), and the plan counted each worker as that many cores; its thread count "
            "(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) and the workers share the cores."
            % m["cpu_ratio"], value=m["cpu_ratio"], thresholds=(threaded,))
    return out
