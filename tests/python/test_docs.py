"""Every ```python block of docs/PYTHON.md runs, in order, in one namespace, in a
directory with a 2-rank profile as run.h5 and a few profiles in sweep/."""
import os
import re
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from conftest import COMMITTED, ROOT, fresh_profiles  # noqa: E402

DOC = os.path.join(ROOT, "docs", "PYTHON.md")


def blocks():
    with open(DOC) as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), re.MULTILINE | re.DOTALL)


def test_doc_snippets_run(tmp_path, monkeypatch):
    code = blocks()
    assert len(code) >= 6, "PYTHON.md lost its examples"
    fresh = {os.path.basename(p): p for p in fresh_profiles()}
    shutil.copyfile(fresh.get("mpi2.h5", COMMITTED[0]), tmp_path / "run.h5")
    (tmp_path / "sweep").mkdir()
    for i, src in enumerate(COMMITTED + sorted(fresh.values())):
        shutil.copyfile(src, tmp_path / "sweep" / f"{i:02d}_{os.path.basename(src)}")
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__docs__"}
    for i, block in enumerate(code):
        try:
            exec(compile(block, f"PYTHON.md block {i + 1}", "exec"), ns)
        except Exception as e:  # name the block that broke
            raise AssertionError(f"PYTHON.md block {i + 1} failed: {e!r}\n{block}") from e
    for png in ("timeline.png", "overheads.png", "predicted.png", "sweep.png", "dashboard.png"):
        assert (tmp_path / png).stat().st_size > 5000, png
    plt.close("all")


def test_profile_format_h5py_snippet(monkeypatch, tmp_path):
    """The h5py example of PROFILE_FORMAT.md runs on a real profile."""
    with open(os.path.join(ROOT, "docs", "PROFILE_FORMAT.md")) as f:
        code = re.findall(r"^```python\n(.*?)^```", f.read(), re.MULTILINE | re.DOTALL)
    assert len(code) == 1
    shutil.copyfile(COMMITTED[0], tmp_path / "run.h5")
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(code[0], "PROFILE_FORMAT.md", "exec"), ns)
    assert len(ns["per_rank"]) == 2 and set(ns["terms"]) >= {"compute", "total"}


def test_doc_links_exist():
    with open(DOC) as f:
        text = f.read()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert os.path.exists(os.path.join(ROOT, "docs", target)), target
