"""Amorsize profiles in Python: open, compare and plot the HDF5 profiles that the
Amorsize C library writes, as pandas DataFrames.

    import amorsize
    p = amorsize.open("run.h5")          # checks the seal, the schema and every row
    p.attrs["schedule"], p.stats.efficiency
    p.chunks, p.workers, p.ranks, p.candidates, p.terms, p.nodes, p.failures, p.model
    p.findings                           # the bottlenecks of `amorsize report`, as data
    print(p.summary())                   # the text of `amorsize report`
    df = amorsize.compare(["a.h5", "b.h5"])   # one row per run, for sweeps

Plots are in ``amorsize.plot`` (matplotlib, imported on first use). Every file
that is not a readable profile raises ``amorsize.ProfileError`` with the reason.
The format is ``docs/PROFILE_FORMAT.md``; this package is ``docs/PYTHON.md``.
"""
from ._errors import ProfileError
from ._seal import SCHEMA_VERSION
from .compare import compare
from .findings import Finding, Stats, fmt_seconds
from .profile import Profile

__version__ = "0.1.0"
__all__ = ["open", "compare", "Profile", "ProfileError", "Finding", "Stats", "fmt_seconds",
           "SCHEMA_VERSION", "__version__"]


def open(path, verify=True):  # noqa: A001 - the package's entry point, as h5py.File
    """Opens the profile at ``path``: reads it whole and closes the file.

    Checks what ``amz_profile_open`` checks: the seal (the file is an Amorsize
    profile, complete, unchanged since it was written: set ``verify=False`` to read
    an edited file anyway), the schema version (a newer one is refused), and every
    attribute, table and row. Raises ProfileError with the reason otherwise.
    """
    return Profile(path, verify=verify)
