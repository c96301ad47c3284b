"""The seal of a profile: the 512-byte text header in the HDF5 user block.

The C reader (``src/profile/profile_seal.c``) checks it before HDF5 parses a byte; this
module makes the same checks, in the same order, with the same reasons, so that
a damaged, truncated, foreign or newer file is refused before h5py opens it.
"""
import os
import re
import stat
import zlib

from ._errors import ProfileError

HEADER = 512
MAGIC = b"AMORSIZE-PROFILE\n"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: The newest schema this reader understands (``schema_version`` in the file).
SCHEMA_VERSION = 1


def _field(header, key, hexadecimal=False):
    """The value of the first line ``key value`` of the header (up to its first NUL),
    or None when that line is missing or malformed, as the C reader's strtoull
    reads it: decimal, or hexadecimal with an optional 0x; 64 bits at most."""
    text = header.split(b"\0", 1)[0]
    for line in text.split(b"\n")[:-1]:
        if line.startswith(key.encode() + b" "):
            value = line[len(key) + 1:]
            if hexadecimal:
                m = re.fullmatch(rb"(?:0[xX])?([0-9a-fA-F]+)", value)
                if not m or not re.match(rb"[0-9a-fA-F]", value):
                    return None
                v = int(m.group(1), 16)
            else:
                if not re.fullmatch(rb"[0-9]+", value):
                    return None
                v = int(value)
            return v if v < 1 << 64 else None
    return None


def _crc(f, size):
    crc = 0
    f.seek(HEADER)
    left = size - HEADER
    while left > 0:
        block = f.read(min(left, 1 << 20))
        if not block:
            raise OSError("unexpected end of file")
        crc = zlib.crc32(block, crc)
        left -= len(block)
    return crc & 0xFFFFFFFF


def verify(path, verify_crc=True):
    """Checks the header of ``path``; returns the schema version it declares.

    Raises ProfileError (with the reason) for a missing, non-regular, foreign,
    truncated, damaged or newer file. With ``verify_crc=False`` the length and the
    CRC-32 are not checked (an edited file reads anyway), as ``--no-verify``.
    """
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError as e:
        raise ProfileError(p, f"cannot open: {e.strerror}") from None
    # Checked before open(): opening a FIFO would block until a writer appears.
    if not stat.S_ISREG(st.st_mode):
        raise ProfileError(p, "not a regular file")
    try:
        with open(p, "rb") as f:
            h = f.read(HEADER)
            if h.startswith(HDF5_SIGNATURE):
                raise ProfileError(p, "an HDF5 file, but not an Amorsize profile (no Amorsize "
                                      "header; written by another program?)")
            if not h.startswith(MAGIC):
                raise ProfileError(p, "not an Amorsize profile (%s)"
                                   % ("empty file" if not h else "unknown first bytes"))
            if len(h) < HEADER:
                raise ProfileError(p, f"truncated: {len(h)} bytes, shorter than the profile "
                                      "header")
            schema, size, crc = _field(h, "schema"), _field(h, "bytes"), _field(h, "crc32", True)
            if b"\0" not in h or schema is None or size is None or crc is None or crc > 0xFFFFFFFF:
                raise ProfileError(p, "damaged Amorsize header (schema, bytes, crc32 lines)")
            if schema > SCHEMA_VERSION:
                raise ProfileError(p, f"schema version {schema} is newer than this reader's "
                                      f"({SCHEMA_VERSION}); read it with a newer amorsize")
            if schema < 1:
                raise ProfileError(p, f"schema version {schema} is not a released version")
            if verify_crc:
                if st.st_size < size:
                    raise ProfileError(p, f"truncated: {st.st_size} of {size} bytes")
                if st.st_size > size:
                    raise ProfileError(p, f"{st.st_size} bytes, but the header says {size}: "
                                          "data was appended or the file was changed")
                have = _crc(f, size)
                if have != crc:
                    raise ProfileError(p, f"damaged: CRC-32 {have:08x}, the header says "
                                          f"{crc:08x} (changed after writing? --no-verify "
                                          "reads it anyway)")
    except OSError as e:
        raise ProfileError(p, f"cannot read: {e.strerror or e}") from None
    return schema


def seal(path):
    """Writes a valid header over ``path`` (as the library does once a profile is
    complete): for tests and tools that build or edit profiles on purpose. The
    CRC-32 guards against damage, not against tampering."""
    p = os.fspath(path)
    with open(p, "r+b") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        crc = _crc(f, size)
        f.seek(0)
        f.write((MAGIC + b"schema %d\nbytes %d\ncrc32 %08x\n" % (SCHEMA_VERSION, size, crc))
                .ljust(HEADER, b"\0"))
