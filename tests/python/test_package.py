"""Packaging: `pip install ./src/python` works offline against the machine's h5py
and pandas (a venv with --system-site-packages, no index), as a wheel and editable;
its version is the project's."""
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest

import amorsize
from conftest import DATA, ROOT

PKG = os.path.join(ROOT, "src", "python")


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(\s*amorsize\s+VERSION\s+([0-9.]+)", f.read()).group(1)


def test_version_is_the_projects():
    assert amorsize.__version__ == project_version()


def test_backend_declares_what_pyproject_does():
    text = open(os.path.join(PKG, "pyproject.toml")).read()
    sys.path.insert(0, os.path.join(PKG, "_backend"))
    try:
        import amorsize_backend as b
    finally:
        sys.path.pop(0)
    deps = re.search(r"^dependencies = \[(.*?)\]", text, re.MULTILINE | re.DOTALL).group(1)
    assert [d.strip().strip('"') for d in deps.split(",")] == b.REQUIRES
    for extra, reqs in b.EXTRAS.items():
        line = re.search(rf"^{extra} = \[(.*?)\]", text, re.MULTILINE).group(1)
        assert [d.strip().strip('"') for d in line.split(",")] == reqs
    assert b._version() == amorsize.__version__


def venv(tmp_path):
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"{sys.executable} has no pip (Debian: python3-pip)")
    if importlib.util.find_spec("venv") is None:
        pytest.skip(f"{sys.executable} has no venv module (Debian: python3-venv)")
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(env_dir)], check=True, timeout=120)
    return str(env_dir / "bin" / "python")


def pip_install(py, *args):
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    r = subprocess.run([py, "-m", "pip", "install", "--no-index", *args], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return env


def check_installed(py, env, tmp_path, where):
    code = ("import amorsize, sys; p = amorsize.open(sys.argv[1]); "
            "print(amorsize.__file__); print(p.attrs['task'], len(p.chunks))")
    r = subprocess.run([py, "-c", code, os.path.join(DATA, "mpi2.h5")], env=env,
                       cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    path, line = r.stdout.splitlines()
    assert path.startswith(where), path
    assert line == "profile writer 94"
    exe = os.path.join(os.path.dirname(py), "amorsize-py")
    r = subprocess.run([exe, "summary", os.path.join(DATA, "threads.h5")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("Amorsize profile "), r.stderr


def test_pip_install_offline(tmp_path):
    py = venv(tmp_path)
    env = pip_install(py, PKG)
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, env=env).stdout.strip()
    check_installed(py, env, tmp_path, site)
    assert not os.path.exists(os.path.join(PKG, "build")), "the build leaves no tree behind"


def test_pip_install_editable(tmp_path):
    py = venv(tmp_path)
    env = pip_install(py, "-e", PKG)
    check_installed(py, env, tmp_path, os.path.join(PKG, "amorsize"))


def test_wheel_and_sdist_contents(tmp_path):
    sys.path.insert(0, os.path.join(PKG, "_backend"))
    try:
        import amorsize_backend as b
    finally:
        sys.path.pop(0)
    whl = b.build_wheel(str(tmp_path))
    names = zipfile.ZipFile(tmp_path / whl).namelist()
    v = amorsize.__version__
    assert whl == f"amorsize-{v}-py3-none-any.whl"
    for n in ("amorsize/__init__.py", "amorsize/plot.py", "amorsize/__main__.py",
              f"amorsize-{v}.dist-info/METADATA", f"amorsize-{v}.dist-info/RECORD"):
        assert n in names
    assert not any("__pycache__" in n for n in names)
    sd = b.build_sdist(str(tmp_path))
    members = tarfile.open(tmp_path / sd).getnames()
    assert f"amorsize-{v}/pyproject.toml" in members and f"amorsize-{v}/PKG-INFO" in members
