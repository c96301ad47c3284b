"""The text report of a profile, line for line what ``amorsize report`` prints."""
from .findings import cstr, fmt_seconds as T


def _pl(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _decision(p, out):
    c = p._raw["candidates"]
    why = p._raw["plan"]["why"]
    out.append("")
    out.append("Decision")
    out.append("  " + (why if why else "(no reason recorded)"))
    n = len(c["ranks"])
    if n == 0:
        out.append("  no candidates recorded (the options fixed the plan)")
        return
    ranks, threads = c["ranks"].tolist(), c["threads"].tolist()
    multi = any(r != ranks[0] for r in ranks[1:])
    out.append("  %d candidates considered; the best per %s count:" % (n, "rank" if multi
                                                                      else "thread"))
    out.append("    %5s %7s %-9s %8s %12s %9s" % ("ranks", "threads", "schedule", "chunk",
                                                  "predicted", "vs chosen"))
    chosen_s = 0.0
    for i in range(n):
        if c["chosen"][i]:
            chosen_s = float(c["predicted_s"][i])
    # Candidates come fastest first: the first of each count is its best; the chosen one
    # is shown even when a faster one of its count lost on the tie rules.
    seen = []
    for i in range(n):
        key = ranks[i] if multi else threads[i]
        dup = key in seen
        chosen = bool(c["chosen"][i])
        if dup and not chosen:
            continue
        if not dup and len(seen) < 64:
            seen.append(key)
        elif not dup:
            continue
        pred = float(c["predicted_s"][i])
        out.append("  %s %5d %7d %s %8d %12s %+8.1f%%" % (
            "*" if chosen else " ", ranks[i], threads[i], cstr(c["schedule"][i], 9),
            int(c["chunk"][i]),
            T(pred), 100.0 * (pred - chosen_s) / chosen_s if chosen_s > 0 else 0.0))
    out.append("  (* = chosen; 'amorsize html' draws the whole curve)")


def report(p, path):
    """The report of Profile ``p`` as one string ending in a newline; ``path`` is the
    name printed in its first line."""
    a, st, m = p.attrs, p.stats, p._raw["model"]
    out = []
    out.append("Amorsize profile %s (schema %d, amorsize %s, written %s)" % (
        path, a["schema_version"], a["library_version"], a["created"]))
    out.append('  task "%s": %d items, run %d of its plan, %s mode' % (
        a["task"], a["n_items"], a["run_index"], a["mode"]))
    if a["kind"] == "mpi":
        out.append("  ran %s x %s on %s (%d launched), %s, chunk %d" % (
            _pl(a["ranks_used"], "rank"), _pl(a["threads"], "thread"), _pl(a["nodes"], "node"),
            a["ranks_launched"], a["schedule"], a["chunk"]))
    else:
        out.append("  ran %s, %s, chunk %d" % (_pl(a["threads"], "thread"), a["schedule"],
                                               a["chunk"]))
    line = "  host %s" % (a["host"] or "?")
    if a["slurm_job_id"]:
        line += ", Slurm job %s" % a["slurm_job_id"]
    out.append(line)
    if a["mpi_library"]:
        out.append("  MPI: %s" % a["mpi_library"])
    out.append("  command: %s" % (a["command_line"] or "?"))
    if a["slurm"]:
        # The allocation, one variable per line as the job saw it.
        lines = a["slurm"].split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out.append("  Slurm:" + "".join(" " + v for v in lines))

    out.append("")
    out.append("Summary")
    out.append("  wall %s, predicted %s (error %+.1f%%)" % (T(a["wall_s"]), T(a["predicted_s"]),
                                                         100.0 * st.pred_error))
    if a["predicted_hi_s"] > 0:
        where = ("above it" if a["wall_s"] > a["predicted_hi_s"]
                 else "below it" if a["wall_s"] < a["predicted_lo_s"] else "inside")
        out.append("  predicted interval %s to %s (widest part: %s): the run fell %s" % (
            T(a["predicted_lo_s"]), T(a["predicted_hi_s"]), a["predicted_widest"], where))
    line = "  items done %d, failed %d" % (a["items_done"], a["items_failed"])
    if a["sampled_items"]:
        line += " (%d of them while sampling, before the run)" % a["sampled_items"]
    out.append(line)
    if a["items_resumed"]:
        out.append("  resumed: %d items were completed by earlier jobs (checkpoint %s) and not "
                   "run again" % (a["items_resumed"], a["checkpoint"]))
    elif a["checkpoint"]:
        out.append("  checkpoint %s: completed chunks were logged for a rerun to skip"
                   % a["checkpoint"])
    if a["retry_calls"]:
        out.append("  retries: %d kernel calls isolated the failures; %d items succeeded when "
                   "run again" % (a["retry_calls"], a["items_recovered"]))
    if a["setup_s"] > 0:
        out.append("  probe + sampling + planning took %s before the run" % T(a["setup_s"]))
    out.append("  efficiency %.2f: the %d workers ran the kernel %.0f%% of the wall time"
               % (st.efficiency, st.workers, 100.0 * st.efficiency))
    out.append("  speedup x%.2f (kernel time over wall time); the whole loop alone on one "
               "thread was predicted at %s" % (st.speedup, T(a["predicted_serial_s"])))
    line = "  lower bound %s (kernel time %s over %d workers, or the longest item %s)" % (
        T(st.lower_bound_s), T(st.busy_s), st.workers, T(st.longest_item_s))
    if a["wall_s"] > 0 and st.lower_bound_s > 0:
        line += "; the wall time is x%.2f the bound" % (a["wall_s"] / st.lower_bound_s)
    out.append(line)
    out.append("  %d chunks in the run (%d executed%s)" % (
        st.run_chunks, a["chunks_total"], ", some not recorded" if a["chunks_dropped"] else ""))
    # Static blocks with a way out: the items that moved between workers (files
    # written before the field existed read 0, and say nothing).
    taken = int(p._raw["workers"]["taken"].sum())
    if taken > 0:
        out.append("  static blocks: workers that had finished their own took %d item%s (%.1f%%) "
                   "from the others' blocks" % (taken, "" if taken == 1 else "s",
                                                100.0 * taken / a["n_items"] if a["n_items"] else 0.0))

    _decision(p, out)

    out.append("")
    out.append("Predicted against measured")
    out.append("  %-10s %11s %11s %11s %7s" % ("term", "predicted", "measured", "difference",
                                               "share"))
    t = p._raw["terms"]
    for i, name in enumerate(t["term"]):
        pr, me = float(t["predicted_s"][i]), float(t["measured_s"][i])
        if name == "data" and pr == 0 and me == 0:
            continue
        out.append("  %s %11s %11s %11s %6.1f%%" % (
            cstr(name, 10), T(pr), T(me), T(me - pr),
            100.0 * me / a["wall_s"] if a["wall_s"] > 0 else 0.0))

    out.append("")
    out.append("Model inputs")
    out.append("  sampled %d items in %d blocks (%s): mean %s, median %s per item, cv %.2f, "
               "trend %+.2f" % (m["sampled_items"], m["sample_blocks"], T(m["sample_wall_s"]),
                                T(m["mean_s"]), T(m["median_s"]), m["cv"], m["trend"]))
    out.append("  CPU/wall %.2f, contention x%.2f, standard error %.1f%%%s%s" % (
        m["cpu_ratio"], m["contention"], 100.0 * m["rel_error"],
        "; stopped: " if m["stop_reason"] else "", m["stop_reason"]))
    out.append("  costs: thread start %s, pool wake %s, per chunk static %s, shared counter %s"
               % (T(m["thread_start_s"]), T(m["pool_wake_s"]), T(m["chunk_static_s"]),
                  T(m["chunk_atomic_s"])))
    if m["latency_shm_s"] > 0:
        out.append("  network: in a node %s latency, %.2f GB/s; node counter %s" % (
            T(m["latency_shm_s"]), m["bandwidth_shm_Bps"] / 1e9, T(m["counter_s"])))
    if m["latency_net_s"] > 0:
        out.append("  network: between nodes %s latency, %.2f GB/s" % (
            T(m["latency_net_s"]), m["bandwidth_net_Bps"] / 1e9))

    nd = p._raw["nodes"]
    nn = len(nd["node"])
    out.append("")
    out.append("Nodes")
    out.append("  %4s %-20s %6s %5s %6s %s" % ("node", "host", "ranks", "used", "cores", "cpu"))
    for i in range(min(nn, 32)):
        out.append("  %4d %s %6d %5d %6d %s%s" % (
            nd["node"][i], cstr(nd["host"][i], 20), nd["ranks"][i], nd["ranks_used"][i],
            nd["cores"][i],
            nd["cpu_model"][i], " (bindings overlap)" if nd["shared"][i] else ""))
    if nn > 32:
        out.append("  ... %d more nodes" % (nn - 32))

    f = p._raw["failures"]
    nf = len(f["begin"])
    if nf:
        out.append("")
        out.append("Failures")
        for i in range(min(nf, 10)):
            out.append("  [%d, %d) code %d" % (f["begin"][i], f["end"][i], f["code"][i]))
        if nf > 10:
            out.append("  ... %d more failed ranges" % (nf - 10))

    out.append("")
    out.append("Bottlenecks")
    found = 0
    for fd in p._findings_for(path):
        out.append("  [%s] %s" % (fd.severity, fd.text))
        found += fd.severity != "INFO"
    if not found:
        out.append("  none: no overhead above its threshold.")
    return "\n".join(out) + "\n"
