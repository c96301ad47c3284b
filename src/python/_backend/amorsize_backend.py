"""A minimal PEP 517 / PEP 660 build backend for the pure-Python amorsize package.

It exists so that `pip install ./src/python` needs nothing from a package index:
pip builds with an empty requirement list and this module, which writes the
wheel (and an sdist, and an editable wheel) with the standard library only.
The package is pure Python: one import package, `amorsize`, no compiled code.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "amorsize"
SUMMARY = ("Read Amorsize HDF5 profiles as pandas DataFrames: tables, findings, comparisons, "
           "plots")
# As pyproject.toml says (kept in step by tests/python/test_package.py).
REQUIRES = ["numpy>=1.20", "pandas>=1.3"]
EXTRAS = {"h5py": ["h5py>=3.0"], "plot": ["matplotlib>=3.5"],
          "all": ["h5py>=3.0", "matplotlib>=3.5"]}
SCRIPTS = {"amorsize-py": "amorsize.__main__:main"}


def _version():
    with open(os.path.join(ROOT, NAME, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "([^"]+)"', f.read(), re.MULTILINE)
    if not m:
        raise RuntimeError("amorsize/__init__.py has no __version__ line")
    return m.group(1)


def _metadata():
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {_version()}",
             f"Summary: {SUMMARY}", "License: BSD-3-Clause", "Requires-Python: >=3.9"]
    lines += [f"Requires-Dist: {r}" for r in REQUIRES]
    for extra, reqs in EXTRAS.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs]
    lines.append("Description-Content-Type: text/markdown")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return "\n".join(lines) + "\n\n" + f.read()


def _sources():
    """The package's files, relative to ROOT, sorted (reproducible archives)."""
    out = []
    for d, dirs, files in os.walk(os.path.join(ROOT, NAME)):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        out += [os.path.relpath(os.path.join(d, f), ROOT) for f in sorted(files)
                if f.endswith(".py")]
    return out


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(directory, files):
    """Writes a wheel with `files` (archive name -> bytes) and returns its name."""
    version = _version()
    dist = f"{NAME}-{version}.dist-info"
    files = dict(files)
    files[f"{dist}/METADATA"] = _metadata().encode()
    files[f"{dist}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: amorsize_backend\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{dist}/top_level.txt"] = f"{NAME}\n".encode()
    files[f"{dist}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
        f"{k} = {v}\n" for k, v in SCRIPTS.items())).encode()
    record = [_record_line(n, d) for n, d in sorted(files.items())]
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel_name = f"{NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, wheel_name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for n in sorted(files):
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[n])
    return wheel_name


# ---- PEP 517 ------------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for rel in _sources():
        with open(os.path.join(ROOT, rel), "rb") as f:
            files[rel.replace(os.sep, "/")] = f.read()
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: a wheel whose .pth file puts this source tree on sys.path."""
    return _wheel(wheel_directory, {f"_{NAME}_editable.pth": (ROOT + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{_version()}"
    name = f"{base}.tar.gz"
    rels = ["pyproject.toml", "README.md", os.path.join("_backend", "amorsize_backend.py")]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for rel in rels + _sources():
            t.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}", recursive=False)
        pkg = _metadata().encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg)
        t.addfile(info, io.BytesIO(pkg))
    return name
