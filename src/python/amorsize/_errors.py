"""The one exception type of the package."""


class ProfileError(Exception):
    """A file that is not a readable Amorsize profile.

    Raised for a missing or unreadable file, a file of another program, a damaged,
    truncated or newer profile, and a profile whose contents break the format
    (a missing table, a wrong type, an index out of range). ``path`` is the file
    and ``reason`` says what is wrong with it; ``str(e)`` is ``"PATH: REASON"``,
    for most files the line the ``amorsize`` command-line tool prints for them
    (docs/PYTHON.md lists where the two readers differ).
    """

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
