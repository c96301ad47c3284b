"""Each plot draws real data from a profile and returns its Figure."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import amorsize  # noqa: E402
from amorsize import plot  # noqa: E402
from conftest import COMMITTED  # noqa: E402


@pytest.fixture
def prof():
    yield amorsize.open(COMMITTED[0])
    plt.close("all")


def png(fig, tmp_path, name):
    out = tmp_path / f"{name}.png"
    fig.savefig(out, dpi=40)
    assert out.stat().st_size > 2000
    return out


def test_timeline(prof, tmp_path):
    fig = plot.timeline(prof)
    ax = fig.axes[0]
    # One bar per chunk: sampling blocks, run chunks and failed chunks.
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == len(prof.chunks)
    assert len(ax.get_yticks()) == len(prof.workers)
    png(fig, tmp_path, "timeline")
    fig = plot.timeline(prof, sampled=False)
    assert sum(len(c.get_paths()) for c in fig.axes[0].collections) == len(prof.run_chunks)


def test_overheads_pie_and_bars(prof, tmp_path):
    fig = plot.overheads(prof, "pie")
    wedges = [p for p in fig.axes[0].patches]
    assert len(wedges) == int((prof.terms.drop(index="total")["measured_s"] > 0).sum())
    png(fig, tmp_path, "pie")
    fig = plot.overheads(prof, "bar")
    assert len(fig.axes[0].patches) == 2 * 6
    png(fig, tmp_path, "bars")
    with pytest.raises(ValueError):
        plot.overheads(prof, "donut")


def test_predicted_vs_measured_and_runs(tmp_path):
    df = amorsize.compare(COMMITTED)
    fig = plot.predicted_vs_measured(df, label="kind")
    offsets = [c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())]
    assert sum(len(o) for o in offsets) >= len(df)
    png(fig, tmp_path, "pvm")
    fig = plot.predicted_vs_measured(COMMITTED)
    png(fig, tmp_path, "pvm2")
    fig = plot.runs(df, x="n_items", y="efficiency", by="kind")
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(KeyError, match="nonsense"):
        plot.runs(df, x="nonsense")
    plt.close("all")


def test_candidates_and_dashboard(prof, tmp_path):
    fig = plot.candidates(prof)
    c = prof.candidates
    assert len(fig.axes[0].lines) == c["schedule"].nunique()
    png(fig, tmp_path, "cand")
    fig = plot.dashboard(prof)
    assert len(fig.axes) == 4
    assert "efficiency" in fig._suptitle.get_text()
    png(fig, tmp_path, "dash")


def test_draws_into_given_axes(prof):
    fig, ax = plt.subplots()
    assert plot.timeline(prof, ax=ax) is fig
    assert plot.overheads(prof, ax=ax) is fig
