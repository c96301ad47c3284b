"""Charts of profiles with matplotlib (optional: imported on first use).

Every function takes an optional ``ax`` (draw into it) and returns the
matplotlib Figure it drew on, so that a notebook shows it and a script can
``fig.savefig("x.png")``. Profiles may be given as paths or Profile objects.
"""
from .compare import compare as _compare
from . import findings as _findings
from .findings import fmt_seconds
from .profile import Profile

# Colours: one per term, the same in every chart (and close to the HTML report's).
TERM_COLORS = {"startup": "#8c6bb1", "compute": "#2b8cbe", "dispatch": "#f16913",
               "imbalance": "#e7298a", "serial": "#969696", "data": "#41ab5d"}


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("amorsize.plot needs matplotlib (Debian: python3-matplotlib; "
                          f"pip: matplotlib): {e}") from None
    return plt


def _profile(p):
    return p if isinstance(p, Profile) else Profile(p)


def _axes(ax, size=(8, 4)):
    if ax is not None:
        return ax.figure, ax
    fig, ax = _plt().subplots(figsize=size, layout="constrained")
    return fig, ax


def _title(p):
    a = p.attrs
    return f"{a['task']}: {a['n_items']} items, {a['ranks_used']} x {a['threads']}, {a['schedule']}"


def timeline(p, ax=None, sampled=True):
    """The per-worker timeline: one row per rank and thread, a bar per chunk from its
    start to its end (seconds since the rank entered the run). Run chunks are
    coloured by rank, sampling blocks (before time 0) grey, failed chunks red."""
    p = _profile(p)
    fig, ax = _axes(ax, (9, 0.9 + 0.35 * max(2, len(p.workers))))
    c = p.chunks
    if not sampled:
        c = c[~c["sampled"]]
    workers = sorted(set(zip(p.workers["rank"], p.workers["thread"]))
                     | set(zip(c["rank"], c["thread"])))
    row = {w: i for i, w in enumerate(workers)}
    cmap = _plt().get_cmap("tab10")
    for (rank, thread), g in c.groupby(["rank", "thread"]):
        y = row[(rank, thread)]
        for kind, sel, color in (
                ("sampled", g["sampled"], "#bdbdbd"),
                ("failed", (~g["sampled"]) & (g["status"] != 0), "#d7301f"),
                ("run", (~g["sampled"]) & (g["status"] == 0), cmap(int(rank) % 10))):
            s = g[sel]
            if len(s):
                ax.broken_barh(list(zip(s["t_start"], s["duration_s"])), (y - 0.4, 0.8),
                               facecolors=color, edgecolors="white", linewidth=0.3)
    ax.set_yticks(range(len(workers)))
    ax.set_yticklabels([f"rank {r} thr {t}" for r, t in workers])
    ax.invert_yaxis()
    wall = p.attrs["wall_s"]
    ax.axvline(0, color="black", linewidth=0.8)
    ax.axvline(wall, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel("seconds since the run started (sampling before 0; dashed: wall time)")
    ax.set_title(f"Timeline: {_title(p)}")
    return fig


def overheads(p, kind="pie", ax=None):
    """Where the time went. ``kind="pie"``: the measured terms as shares of the wall
    time. ``kind="bar"``: each term predicted beside measured (seconds)."""
    if kind not in ("pie", "bar"):
        raise ValueError(f"kind is {kind!r}, expected 'pie' or 'bar'")
    p = _profile(p)
    t = p.terms.drop(index="total", errors="ignore")
    fig, ax = _axes(ax, (6, 4.5) if kind == "pie" else (8, 4))
    if kind == "pie":
        m = t["measured_s"].clip(lower=0)
        m = m[m > 0]
        if m.sum() <= 0:
            ax.text(0.5, 0.5, "no measured time", ha="center", va="center")
            ax.set_axis_off()
        else:
            share = m / m.sum()
            labels = [f"{n} {fmt_seconds(v)}" if s >= 0.02 else "" for n, v, s
                      in zip(m.index, m, share)]
            ax.pie(m, labels=labels, colors=[TERM_COLORS.get(n, "#cccccc") for n in m.index],
                   autopct=lambda pct: f"{pct:.1f}%" if pct >= 2 else "", startangle=90,
                   counterclock=False, wedgeprops={"linewidth": 1, "edgecolor": "white"})
            ax.legend([f"{n}: {100 * s:.2f}%" for n, s in zip(m.index, share)],
                      loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
            ax.set_aspect("equal")
        ax.set_title(f"Measured overheads: {_title(p)}")
    else:
        x = range(len(t))
        ax.bar([i - 0.2 for i in x], t["predicted_s"], 0.4, label="predicted", color="#c6dbef",
               edgecolor="#6baed6")
        ax.bar([i + 0.2 for i in x], t["measured_s"], 0.4, label="measured", color="#08519c")
        ax.set_xticks(list(x))
        ax.set_xticklabels(t.index, rotation=30, ha="right")
        ax.set_ylabel("seconds (mean per worker)")
        if (t[["predicted_s", "measured_s"]] > 0).any().any():
            top = float(t[["predicted_s", "measured_s"]].max().max())
            low = float(t[["predicted_s", "measured_s"]][t[["predicted_s", "measured_s"]] > 0]
                        .min().min())
            if top / low > 1e3:
                ax.set_yscale("log")
        ax.legend()
        ax.set_title(f"Terms, predicted and measured: {_title(p)}")
    return fig


def predicted_vs_measured(runs, ax=None, label=None):
    """Each run's predicted time against its wall time, with the line of perfect
    prediction and a +-25% band. ``runs``: a list of profiles or paths, or a
    DataFrame from ``compare`` (its ``predicted_s`` and ``wall_s`` columns);
    ``label`` names a column whose values label the points' colours."""
    df = runs if hasattr(runs, "columns") else _compare(list(runs))
    fig, ax = _axes(ax, (5.5, 5))
    if label and label in df.columns:
        for key, g in df.groupby(label):
            ax.scatter(g["predicted_s"], g["wall_s"], label=f"{label} {key}", s=30)
        ax.legend(fontsize="small")
    else:
        ax.scatter(df["predicted_s"], df["wall_s"], s=30)
    vals = [v for v in list(df["predicted_s"]) + list(df["wall_s"]) if v > 0]
    if vals:
        lo, hi = min(vals) / 1.5, max(vals) * 1.5
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)
        ax.fill_between([lo, hi], [lo * 0.75, hi * 0.75], [lo * 1.25, hi * 1.25],
                        color="grey", alpha=0.15, label="+-25%")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    ax.set_xlabel("predicted (s)")
    ax.set_ylabel("measured wall time (s)")
    ax.set_title("Predicted against measured")
    return fig


def candidates(p, ax=None):
    """The candidate curve: the best predicted time per worker count (ranks x
    threads), one line per schedule, the chosen plan marked."""
    p = _profile(p)
    c = p.candidates
    fig, ax = _axes(ax, (7, 4))
    if not len(c):
        ax.text(0.5, 0.5, "no candidates recorded (the options fixed the plan)",
                ha="center", va="center")
        ax.set_axis_off()
        return fig
    for sched, g in c.groupby("schedule"):
        best = g.groupby("workers")["predicted_s"].min()
        ax.plot(best.index, best.values, marker="o", markersize=3, label=sched)
    ch = c[c["chosen"]]
    if len(ch):
        ax.scatter(ch["workers"], ch["predicted_s"], s=160, facecolors="none",
                   edgecolors="black", linewidths=1.5, zorder=5, label="chosen")
    ax.set_xlabel("workers (ranks x threads)")
    ax.set_ylabel("predicted time of all items (s)")
    if c["predicted_s"].max() / max(c["predicted_s"].min(), 1e-300) > 20:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    ax.set_title(f"Candidates: {_title(p)}")
    return fig


def runs(df, x, y="efficiency", by=None, ax=None, logx=None):
    """A comparison across runs: ``y`` against ``x``, one line per value of ``by``
    (columns of a ``compare`` DataFrame, e.g. x="n_items", y="efficiency",
    by="ranks_used"). The x axis is logarithmic when its values span more than a
    factor of 20 (or as ``logx`` says)."""
    for col in [x, y] + ([by] if by else []):
        if col not in df.columns:
            raise KeyError(f"column {col!r} is not in the DataFrame (columns: "
                           f"{', '.join(map(str, df.columns))})")
    fig, ax = _axes(ax, (6.5, 4))
    groups = df.groupby(by) if by else [(None, df)]
    for key, g in groups:
        g = g.sort_values(x)
        ax.plot(g[x], g[y], marker="o", label=None if by is None else f"{by} = {key}")
    xs = [v for v in df[x] if isinstance(v, (int, float)) and v > 0]
    if logx or (logx is None and xs and max(xs) / min(xs) > 20):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if by:
        ax.legend(fontsize="small")
    ax.set_title(f"{y} by {x}" + (f" and {by}" if by else ""))
    return fig


def dashboard(p):
    """One figure of four panels: the timeline, the overhead pie, the terms
    predicted beside measured and the candidate curve, titled with the run's key
    figures and its most serious finding. The pattern of a monitoring page, for
    one profile."""
    p = _profile(p)
    plt = _plt()
    fig = plt.figure(figsize=(16, 9), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    panels = [(fig.add_subplot(grid[0, :]), "Timeline"),
              (fig.add_subplot(grid[1, 0]), "Measured overheads"),
              (fig.add_subplot(grid[1, 1]), "Terms, predicted and measured"),
              (fig.add_subplot(grid[1, 2]), "Candidates")]
    timeline(p, ax=panels[0][0])
    overheads(p, "pie", ax=panels[1][0])
    overheads(p, "bar", ax=panels[2][0])
    candidates(p, ax=panels[3][0])
    for ax, title in panels:
        ax.set_title(title)
    a, st = p.attrs, p.stats
    f = p.findings
    f = f[f["severity"] != "INFO"]
    if len(f):  # the most serious: by severity, then by the report's order
        rank = f["severity"].map({s: i for i, s in enumerate(_findings.SEVERITIES)})
        worst = f.loc[rank.idxmin()]
        flag = f"; {worst['severity']} {worst['kind']}"
    else:
        flag = "; no bottleneck"
    fig.suptitle(f"{a['task']}: wall {fmt_seconds(a['wall_s'])}, predicted "
                 f"{fmt_seconds(a['predicted_s'])} ({100 * st.pred_error:+.1f}%), "
                 f"efficiency {st.efficiency:.2f}{flag}")
    return fig


__all__ = ["timeline", "overheads", "predicted_vs_measured", "candidates", "runs",
           "dashboard", "TERM_COLORS"]
