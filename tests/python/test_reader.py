"""amorsize.open on real profiles: every table, its types, and that they agree."""
import math

import numpy as np
import pandas as pd
import pytest

import amorsize
from conftest import all_profiles, profile_ids

PROFILES = all_profiles()


@pytest.fixture(params=PROFILES, ids=profile_ids(PROFILES))
def prof(request):
    return amorsize.open(request.param)


def test_attrs_are_decoded(prof):
    a = prof.attrs
    for k in ("task", "kind", "mode", "schedule", "created", "library_version", "host",
              "command_line", "slurm", "checkpoint"):
        assert isinstance(a[k], str), k
    for k in ("n_items", "items_done", "items_failed", "chunk", "run_index", "threads"):
        assert isinstance(a[k], int) and not isinstance(a[k], bool), k
    for k in ("wall_s", "predicted_s", "setup_s", "mean_item_s"):
        assert isinstance(a[k], float), k
    assert a["schema_version"] == 1 == prof.schema_version == amorsize.SCHEMA_VERSION
    assert a["task"] == "profile writer"
    assert a["kind"] in ("threads", "mpi")
    assert a["items_done"] + a["items_failed"] == a["n_items"]
    assert a["wall_s"] > 0 and a["predicted_s"] > 0
    assert "amorsize.Profile" in repr(prof) and "profile writer" in repr(prof)


def test_run_chunks_tile_the_items(prof):
    c = prof.chunks
    assert list(c.columns) == ["rank", "thread", "node", "begin", "end", "t_start", "t_end",
                               "status", "sampled", "items", "duration_s"]
    assert c["sampled"].dtype == bool
    run = prof.run_chunks.sort_values("begin")
    n = prof.attrs["n_items"]
    assert run["begin"].iloc[0] == 0 and run["end"].iloc[-1] == n
    assert (run["begin"].to_numpy()[1:] == run["end"].to_numpy()[:-1]).all()
    assert int(run["items"].sum()) == n
    assert (c["duration_s"] >= 0).all()
    # Sampling blocks ran before the run (negative times) and do not overlap.
    s = c[c["sampled"]].sort_values("begin")
    assert (s["t_end"] <= 0).all()
    assert (s["begin"].to_numpy()[1:] >= s["end"].to_numpy()[:-1]).all()
    assert int(s["items"].sum()) == prof.attrs["sampled_items"]


def test_workers_and_ranks(prof):
    w, r, a = prof.workers, prof.ranks, prof.attrs
    assert list(w.columns) == ["rank", "thread", "node", "items", "chunks", "busy_s",
                               "dispatch_s", "idle_s", "data_s", "failures", "taken"]
    assert len(w) == a["ranks_used"] * a["threads"]
    # Items taken from other workers' static blocks are some of a worker's items
    # (the committed profiles predate the field: 0).
    assert (w["taken"] <= w["items"]).all()
    if a["schedule"] != "static":
        assert int(w["taken"].sum()) == 0
    # Workers run the items that sampling did not.
    assert int(w["items"].sum()) == a["n_items"] - a["sampled_items"]
    assert len(r) == a["ranks_used"]
    assert list(r["rank"]) == sorted(set(w["rank"]))
    assert (r["threads"] == a["threads"]).all()
    assert r["busy_s"].sum() == pytest.approx(w["busy_s"].sum())
    assert all(isinstance(h, str) and h for h in r["host"])
    # A rank that ran chunks ended after 0 and before the wall time; one that got none
    # (another rank took them all) has end 0.
    ran = r["chunks"] > 0
    assert (r.loc[ran, "end_s"] > 0).all() and (r.loc[~ran, "end_s"] == 0).all()
    assert (r["end_s"] <= a["wall_s"] * 1.01).all()


def test_candidates(prof):
    c = prof.candidates
    assert len(c) >= 1
    assert c["chosen"].dtype == bool and c["chosen"].sum() == 1
    assert all(isinstance(s, str) for s in c["schedule"])
    assert (c["workers"] == c["ranks"] * c["threads"]).all()
    assert (c["predicted_s"].diff().dropna() >= 0).all(), "fastest first"
    ch = c[c["chosen"]].iloc[0]
    assert ch["schedule"] == prof.attrs["schedule"]
    assert ch["ranks"] == prof.attrs["ranks_used"] and ch["threads"] == prof.attrs["threads"]
    assert prof.plan["why"] and prof.plan["chosen"] == int(c.index[c["chosen"]][0])


def test_terms(prof):
    t = prof.terms
    assert list(t.index) == list(amorsize._profile.TERMS)
    assert t.loc["total", "measured_s"] == pytest.approx(prof.attrs["wall_s"], rel=1e-9)
    assert t.loc["total", "predicted_s"] == pytest.approx(prof.attrs["predicted_s"], rel=1e-9)
    assert (t["difference_s"] == t["measured_s"] - t["predicted_s"]).all()
    assert t.loc["total", "share"] == pytest.approx(1.0)
    parts = t.drop(index="total")["measured_s"].sum()
    # Within 0.5%: the committed files predate the MPI serial term's fix (0.04% off).
    assert parts == pytest.approx(prof.attrs["wall_s"], rel=0.005), "terms add up to the wall"


def test_nodes_failures_model(prof):
    n, f, m = prof.nodes, prof.failures, prof.model
    assert list(n["node"]) == list(range(len(n))) and len(n) == prof.attrs["nodes"]
    assert n["shared"].dtype == bool
    assert all(isinstance(h, str) and h for h in n["host"])
    assert (n["ranks"] >= n["ranks_used"]).all() and n["ranks"].sum() == prof.attrs["ranks_launched"]
    assert int(f["items"].sum()) == prof.attrs["items_failed"]
    assert (f["end"] > f["begin"]).all()
    if prof.attrs["items_failed"]:
        assert set(f["code"]) == {5}, "profile_writer's kernel fails with 5"
    assert list(m.columns) == ["value", "unit"]
    assert m.loc["mean_s", "unit"] == "s" and m.loc["sampled_items", "value"] > 0
    assert isinstance(m.loc["stop_reason", "value"], str)
    cp = prof.cost_profile
    assert len(cp) >= 1 and cp["begin"].iloc[0] == 0 and cp["end"].iloc[-1] == prof.attrs["n_items"]
    assert (cp["item_s"] >= 0).all()


def test_stats_as_the_report_defines_them(prof):
    st, w, a = prof.stats, prof.workers, prof.attrs
    assert st.workers == len(w)
    assert st.busy_s == pytest.approx(w["busy_s"].sum())
    bound = max(st.busy_s / st.workers, prof.model.loc["max_item_s", "value"])
    assert st.lower_bound_s == pytest.approx(bound)
    assert st.efficiency == pytest.approx(bound / a["wall_s"])
    assert st.pred_error == pytest.approx((a["wall_s"] - a["predicted_s"]) / a["predicted_s"])
    assert st.run_chunks == int((~prof.chunks["sampled"]).sum())


def test_findings_are_data(prof):
    f = prof.findings
    assert list(f.columns) == ["kind", "severity", "share", "value", "thresholds", "text"]
    assert set(f["severity"]) <= set(amorsize.findings.SEVERITIES)
    for _, row in f.iterrows():
        if len(row["thresholds"]) == 3:  # LOW, MEDIUM, HIGH: the severity follows from them
            # The prediction's value is the signed error; the rule compares its size.
            v = abs(row["value"]) if row["kind"] == "prediction" else row["value"]
            assert amorsize.findings.severity(v, *row["thresholds"]) == row["severity"], \
                row["kind"]
        if row["kind"] == "slow worker":  # the time lost, at most its speed deficit
            assert 0 <= row["share"] <= row["value"] + 1e-12 <= 1, row
        elif not math.isnan(row["share"]):
            assert row["share"] == row["value"] and 0 <= row["share"] <= 1, row["kind"]
        assert row["text"].startswith(row["kind"]) or row["severity"] == "INFO", row["kind"]
    if prof.attrs["items_failed"]:
        assert f.iloc[0]["kind"] == "failures" and f.iloc[0]["severity"] == "HIGH"


def test_tables_are_fresh_copies(prof):
    c = prof.chunks
    c["rank"] = -1
    assert (prof.chunks["rank"] >= 0).all()
    a = prof.attrs
    a["task"] = "changed"
    assert prof.attrs["task"] == "profile writer"


def test_fmt_seconds_matches_c():
    f = amorsize.fmt_seconds
    assert [f(0.0), f(1.5), f(0.0145), f(1.91e-7), f(-8.53e-5), f(123.4)] == \
        ["0 s", "1.5 s", "14.5 ms", "191 ns", "-85.3 us", "123 s"]


def test_pandas_frames_join(prof):
    # A join a user makes: each chunk with its node's host.
    j = prof.chunks.merge(prof.nodes[["node", "host"]], on="node", how="left")
    assert j["host"].notna().all() and len(j) == len(prof.chunks)
    assert isinstance(prof.chunks, pd.DataFrame) and np.issubdtype(prof.chunks["begin"].dtype,
                                                                   np.unsignedinteger)
