"""amorsize.compare: one tidy DataFrame for sweeps."""
import os

import pytest

import amorsize
from conftest import COMMITTED, DATA


def test_one_row_per_run():
    df = amorsize.compare(COMMITTED)
    assert len(df) == 2 and list(df["file"]) == COMMITTED
    for col in ("task", "schedule", "chunk", "n_items", "ranks_used", "threads", "workers",
                "wall_s", "predicted_s", "error", "speedup", "efficiency", "lower_bound_s",
                "busy_s", "created", "host", "library_version", "total_measured_s",
                "compute_predicted_s", "dispatch_measured_s"):
        assert col in df.columns, col
    assert df["speedup"].iloc[0] == 1.0
    for i, path in enumerate(COMMITTED):
        p = amorsize.open(path)
        row = df.iloc[i]
        assert row["error"] == pytest.approx(p.stats.pred_error)
        assert row["efficiency"] == pytest.approx(p.stats.efficiency)
        assert row["total_measured_s"] == pytest.approx(p.attrs["wall_s"])
        assert row["speedup"] == pytest.approx(df["wall_s"].iloc[0] / p.attrs["wall_s"])
        assert isinstance(row["schedule"], str) and isinstance(row["task"], str)
    # The error's sign: measured minus predicted, over predicted (both ran slower).
    assert (df["error"] > 0).all() and (df["wall_s"] > df["predicted_s"]).all()


def test_one_row_per_run_and_term():
    df = amorsize.compare(COMMITTED, by="term")
    assert len(df) == 2 * 7
    assert set(df["term"]) == set(amorsize._profile.TERMS)
    tot = df[df["term"] == "total"]
    assert (tot["measured_s"].to_numpy() == tot["run_wall_s"].to_numpy()).all()
    assert "wall_s" not in df.columns and "share" in df.columns
    pivot = df.pivot(index="file", columns="term", values="measured_s")
    assert pivot.shape == (2, 7)


def test_profiles_objects_and_errors(tmp_path):
    ps = [amorsize.open(p) for p in COMMITTED]
    assert list(amorsize.compare(ps)["file"]) == COMMITTED
    assert len(amorsize.compare(COMMITTED[0])) == 1
    with pytest.raises(ValueError, match="at least one"):
        amorsize.compare([])
    with pytest.raises(ValueError, match="'rank'"):
        amorsize.compare(COMMITTED, by="rank")
    bad = tmp_path / "bad.h5"
    bad.write_text("x")
    with pytest.raises(amorsize.ProfileError, match="bad.h5"):
        amorsize.compare([COMMITTED[0], str(bad)])
    assert os.path.isdir(DATA)
