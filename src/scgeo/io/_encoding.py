"""Text encodings of Japanese files: UTF-8 (with or without BOM) or Shift_JIS (cp932).

Windows Excel writes CSV in cp932 or UTF-8 with a BOM; 国土数値情報 and e-Stat Shapefiles often
come in cp932 without a ``.cpg``. Detection is strict UTF-8 first (cp932 bytes of Japanese text
are almost never valid UTF-8), then cp932.
"""

from __future__ import annotations

import codecs
import re
import struct
from pathlib import Path

import numpy as np

__all__ = ["cpg_encoding", "dbf_encoding", "detect_encoding"]

# A UTF-8 sequence cut short at the end of a fixed-width DBF field is not evidence against UTF-8.
_TRUNCATED = re.compile("\ufffd+ *\n")
_DBF_SAMPLE_RECORDS = 20_000


def detect_encoding(data: bytes) -> str:
    """The encoding of ``data``: ``"utf-8-sig"``, ``"utf-8"`` or ``"cp932"``.

    A UTF-8 byte-order mark gives ``"utf-8-sig"``; bytes that decode as strict UTF-8 (a
    multi-byte sequence cut at the very end is allowed, so a sample of a file can be given)
    give ``"utf-8"``; anything else is taken as ``"cp932"`` (Shift_JIS with the Windows
    extensions, which is what Japanese Excel writes).

    Examples
    --------
    >>> detect_encoding("緯度".encode("utf-8-sig")), detect_encoding("緯度".encode("cp932"))
    ('utf-8-sig', 'cp932')
    >>> detect_encoding(b"lat,lon")
    'utf-8'
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def cpg_encoding(path: Path) -> str | None:
    """The Python codec named by a Shapefile's ``.cpg`` next to ``path``, if any and known.

    ``.cpg`` files say ``UTF-8``, ``SJIS``, ``Shift_JIS``, ``CP932``, ``932``, ``ANSI 932`` or
    ``65001`` (UTF-8 as a Windows code page); Shift_JIS variants are read as cp932.
    """
    cpg = next((p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.is_file()),
               None)
    if cpg is None:
        return None
    name = cpg.read_bytes().decode("ascii", errors="ignore").strip().lower()
    name = name.removeprefix("ansi").strip()
    if name in ("65001", "utf8", "utf-8"):
        return "utf-8"
    if name in ("932", "sjis", "shift_jis", "shift-jis", "cp932", "ms932", "windows-31j"):
        return "cp932"
    if name.isdigit():
        name = f"cp{name}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def dbf_encoding(path: Path) -> str | None:
    """Detect the encoding of the text fields of the ``.dbf`` next to ``path``.

    Reads the character (``C``) fields of the first records and returns ``"utf-8"`` when they
    are valid UTF-8, else ``"cp932"``; ``None`` when there is no ``.dbf`` or it has no text.
    """
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.is_file()),
               None)
    if dbf is None:
        return None
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            return None
        n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        fields = handle.read(header_len - 32)
        n = min(n_records, _DBF_SAMPLE_RECORDS)
        body = handle.read(n * record_len)
    slices, offset = [], 1  # each record starts with a deletion flag byte
    for pos in range(0, len(fields) - 31, 32):
        if fields[pos] == 0x0D:
            break
        kind, width = chr(fields[pos + 11]), fields[pos + 16]
        if kind == "C":
            slices.append((offset, offset + width))
        offset += width
    n = len(body) // record_len if record_len else 0
    if not slices or n == 0:
        return None
    records = np.frombuffer(body[: n * record_len], dtype=np.uint8).reshape(n, record_len)
    newline = np.full((n, 1), ord("\n"), dtype=np.uint8)
    text = np.hstack([part for a, b in slices for part in (records[:, a:b], newline)])
    if text.max() < 0x80:
        return None
    decoded = _TRUNCATED.sub("\n", text.tobytes().decode("utf-8", errors="replace"))
    return "cp932" if "\ufffd" in decoded else "utf-8"
