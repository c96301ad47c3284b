"""Executes a notebook headless with `jupyter nbconvert --execute` and checks it.

    /usr/bin/python3 run_notebook.py NOTEBOOK.ipynb OUT_DIR

The executed copy is written to OUT_DIR (the notebook in the repository is not
touched); its profiles go to OUT_DIR/profiles. Exit 0 when every cell ran, the copy
holds no error output, and it holds figures (image/png outputs); 1 otherwise;
77 when nbconvert, nbformat or the Python kernel are not installed.
"""
import os
import subprocess
import sys

SKIP = 77

try:
    import nbformat
    import nbconvert  # noqa: F401
    import ipykernel  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import {e.name} (Debian: jupyter-nbconvert, "
          "python3-ipykernel; scripts/test.sh installs them)")
    sys.exit(SKIP)


def main(nb_path, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, os.path.basename(nb_path))
    env = dict(os.environ, AMORSIZE_NOTEBOOK_OUT=os.path.join(out_dir, "profiles"),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
           "--ExecutePreprocessor.timeout=540", "--output", out, nb_path]
    print("$", " ".join(cmd), flush=True)
    # The notebook finds the repository from its working directory.
    r = subprocess.run(cmd, cwd=os.path.dirname(os.path.abspath(nb_path)), env=env,
                       timeout=590)
    if r.returncode != 0:
        print(f"FAIL: nbconvert exited with {r.returncode} (a cell failed: see above)")
        return 1
    nb = nbformat.read(out, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    images = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    unrun = [i for i, c in enumerate(cells) if c.get("execution_count") is None]
    print(f"{len(cells)} code cells, {images} figures, {len(errors)} errors, {len(unrun)} not run")
    if errors or unrun or images < 6:
        print("FAIL: the executed notebook has errors, cells that did not run, or fewer "
              "than 6 figures")
        return 1
    last = "".join(o.get("text", "") for o in cells[-1].get("outputs", []))
    if "OK" not in last:
        print(f"FAIL: the notebook's own checks did not print OK: {last!r}")
        return 1
    print(f"notebook: OK ({out})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
