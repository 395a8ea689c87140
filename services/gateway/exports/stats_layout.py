"""SPSS ``.sav`` and Stata ``.dta`` files written a chunk of rows at a time.

pyreadstat writes a whole data frame; readstat under it writes rows one by one but must be
told their number and every string's width first, and pyreadstat gives it only a frame.
So the metadata (variables, their types, widths, formats, variable and value labels, the
file label and notes) is written by pyreadstat as a *template*: the same call as for the
whole frame, with one row whose texts are as wide as the dataset's widest
(:class:`.spool.Spool`). Its row is then replaced by the dataset's rows, encoded here as
readstat encodes them (numpy, a chunk at a time), and the row count patched:

* ``.dta`` (release 118, pyreadstat's default): ``<data>`` holds fixed-width rows (doubles,
  ``strN`` texts padded with NUL; a text of 2,045 bytes or more is a ``strL``, whose row
  holds a reference (variable, observation) to a ``GSO`` in ``<strls>``); the observation
  count ``<N>`` and the ``<map>`` of section offsets are patched after the rows;
* ``.sav`` (uncompressed, as pyreadstat writes it): the rows follow the dictionary's
  termination record; numbers are doubles (missing: -DBL_MAX), texts padded with spaces
  to a multiple of 8 bytes, texts over 255 bytes in segments of 255 bytes in 256; the case
  count is in the header (int32) and in record 7 subtype 16 (int64).

Missing numbers are Stata's ``.`` and SPSS's system missing; dates are days since 1960
(Stata) or seconds since 14 October 1582 (SPSS); UTC times milliseconds since 1960 (Stata)
or seconds since 1582 (SPSS), as pyreadstat converts them. Tests compare the files with
pyreadstat's own, byte for byte apart from the time of writing.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import numpy as np

from services.gateway.exports.spool import NAT, Spool

DTA_MISSING = 0x7FE0000000000000  # Stata's "." as a double's bits
SAV_MISSING = 0xFFEFFFFFFFFFFFFF  # SPSS's system missing: -DBL_MAX
DTA_DOUBLE, DTA_STRL = 65526, 32768  # dta 118 variable types (1..2045: strN)
SAV_SHORT = 255  # longest text of one SPSS segment
GSO_ASCII = 130
# (offset to 1970 in seconds, in days; seconds are multiplied by) per format
EPOCHS = {"dta": (315619200, 3653, 1000.0), "sav": (12219379200, 141428, 1.0)}
SAV_CASES = 80  # the header's int32 case count
SAV_CASES64 = struct.pack("<4i2q", 7, 16, 8, 2, 1, 1)  # record 7.16 of a one-row template


class TemplateMismatch(RuntimeError):
    """pyreadstat's template is not laid out as expected (a pyreadstat/readstat change)."""


def sav_storage(width: int) -> int:
    """Bytes of a row that a text of ``width`` bytes takes in a .sav (as readstat lays it)."""
    if width > SAV_SHORT:
        segments = (width + 251) // 252
        return (segments - 1) * 256 + (width - (segments - 1) * 252 + 7) // 8 * 8
    return max(8, (width + 7) // 8 * 8)


def _sav_segments(value: bytes, storage: int) -> bytes:
    pieces = [value[i : i + SAV_SHORT].ljust(256, b" ") for i in range(0, len(value), SAV_SHORT)]
    return b"".join(pieces)[:storage].ljust(storage, b" ")


class _Writer:
    """The rows of a spool in one format, after its template's head."""

    def __init__(
        self, fmt: str, spool: Spool, template: bytes, codes: Mapping[int, dict[str, int]]
    ):
        self.fmt, self.spool, self.template = fmt, spool, template
        self.codes = {
            i: {k.encode("utf-8"): float(v) for k, v in c.items()} for i, c in codes.items()
        }
        self.missing = DTA_MISSING if fmt == "dta" else SAV_MISSING
        self.strl: set[int] = set()
        self.fields: list[tuple[str, str]] = []
        if fmt == "dta":
            self._dta_layout()
        else:
            self._sav_layout()
        self.dtype = np.dtype(self.fields)
        self.row_len = self.dtype.itemsize

    # --- layouts read from the template ----------------------------------------------

    def _dta_layout(self) -> None:
        t = self.template
        if b"<release>118</release>" not in t[:64]:
            raise TemplateMismatch("pyreadstat's .dta is not release 118")
        self.map_at = t.index(b"<map>") + len(b"<map>")
        self.map = list(struct.unpack_from("<14Q", t, self.map_at))
        self.n_at = t.index(b"<N>") + len(b"<N>")
        k = struct.unpack_from("<H", t, t.index(b"<K>") + len(b"<K>"))[0]
        types = struct.unpack_from(f"<{k}H", t, self.map[2] + len(b"<variable_types>"))
        for i, code in enumerate(types):
            if code == DTA_DOUBLE:
                self.fields.append((f"f{i}", "<f8"))
            elif code == DTA_STRL:
                self.fields.append((f"f{i}", "<u8"))
                self.strl.add(i)
            elif 1 <= code <= 2045:
                self.fields.append((f"f{i}", f"S{code}"))
            else:
                raise TemplateMismatch(f".dta variable type {code} is not written here")

    def _sav_layout(self) -> None:
        t = self.template
        if struct.unpack_from("<i", t, 72)[0] != 0:
            raise TemplateMismatch("pyreadstat's .sav is compressed")
        text = np.zeros(0, dtype=bool)
        for i, how in enumerate(self.spool.kinds):
            if how == "text":
                storage = sav_storage(self.spool.widths[i])
                self.fields.append((f"f{i}", f"S{storage}"))
                text = np.concatenate([text, np.ones(storage, dtype=bool)])
            else:
                self.fields.append((f"f{i}", "<f8"))
                text = np.concatenate([text, np.zeros(8, dtype=bool)])
        self.text_bytes = text
        row_len = len(text)
        if t[-row_len - 8 : -row_len] != struct.pack("<ii", 999, 0):
            raise TemplateMismatch("pyreadstat's .sav row is not where expected")
        if t.count(SAV_CASES64) != 1:
            raise TemplateMismatch("pyreadstat's .sav has no single 64-bit case count")

    # --- rows ------------------------------------------------------------------------

    def _numbers(self, i: int, how: str, values: np.ndarray) -> np.ndarray:
        offset_secs, offset_days, scale = EPOCHS[self.fmt]
        if how == "code":
            unique, inverse = np.unique(values, return_inverse=True)
            table = np.array([self.codes[i].get(u, np.nan) for u in unique], dtype=np.float64)
            found = table[inverse.reshape(-1)]
        elif how == "date":
            found = values + offset_days
            if self.fmt == "sav":
                found = found * 86400
        elif how == "timestamp":
            whole = values // 1_000_000 + offset_secs
            frac = values % 1_000_000
            found = whole.astype(np.float64) * scale + frac.astype(np.float64) / 1e6 * scale
            found[values == NAT] = np.nan
        else:
            found = values.astype(np.float64, copy=True)
        bits = found.view(np.uint64)
        bits[np.isnan(found)] = self.missing
        return found

    def rows(self, arrays: list[np.ndarray], first: int, gsos: Mapping[int, IO[bytes]]) -> bytes:
        """A chunk's rows as the file's bytes; ``first``: the chunk's first row (0-based),
        for the references of Stata's long texts, whose GSOs go to ``gsos`` (a file per
        variable: they are written ordered by variable, then row)."""
        out = np.zeros(len(arrays[0]), dtype=self.dtype)
        for i, (how, values) in enumerate(zip(self.spool.kinds, arrays, strict=True)):
            name = f"f{i}"
            if how != "text":
                out[name] = self._numbers(i, how, values)
            elif i in self.strl:
                out[name] = self._strls(i, values, first, gsos[i])
            elif self.fmt == "sav" and self.spool.widths[i] > SAV_SHORT:
                storage = self.dtype[name].itemsize
                out[name] = [_sav_segments(v, storage) for v in values.tolist()]
            else:
                out[name] = values
        if self.fmt == "sav":  # texts padded with spaces, not NUL
            raw = out.view(np.uint8).reshape(len(out), self.row_len)
            np.putmask(raw, (raw == 0) & self.text_bytes, 32)
        return out.tobytes()

    @staticmethod
    def _strls(i: int, values: np.ndarray, first: int, gso: IO[bytes]) -> np.ndarray:
        refs = np.zeros(len(values), dtype=np.uint64)
        for n, value in enumerate(values.tolist()):
            if value:
                v, o = i + 1, first + n + 1
                refs[n] = v | (o << 16)
                gso.write(b"GSO" + struct.pack("<IQBI", v, o, GSO_ASCII, len(value) + 1))
                gso.write(value + b"\0")
        return refs

    # --- the file --------------------------------------------------------------------

    def write(self, out: IO[bytes]) -> None:
        rows = self.spool.rows
        t = self.template
        with ExitStack() as files:
            gsos = {
                i: files.enter_context(
                    tempfile.TemporaryFile(dir=self.spool.directory, prefix=".gso-")
                )
                for i in sorted(self.strl)
            }
            if self.fmt == "dta":
                m = self.map
                if m[10] - m[9] != len(b"<data></data>") + self.row_len:
                    raise TemplateMismatch("pyreadstat's .dta row is not where expected")
                out.write(t[: m[9]] + b"<data>")
            else:
                out.write(t[: -self.row_len])
            first = 0
            for arrays in self.spool.chunks():
                out.write(self.rows(arrays, first, gsos))
                first += len(arrays[0])
            if self.fmt == "sav":
                out.seek(SAV_CASES)
                out.write(struct.pack("<i", rows if rows < 2**31 else -1))
                out.seek(t.index(SAV_CASES64) + len(SAV_CASES64) - 8)
                out.write(struct.pack("<q", rows))
                return
            out.write(b"</data><strls>")
            strls = 0
            for gso in gsos.values():
                strls += gso.tell()
                gso.seek(0)
                shutil.copyfileobj(gso, out, 1 << 20)
            out.write(b"</strls>")
            out.write(t[m[11] :])
        new = list(m)
        new[10] = m[9] + len(b"<data></data>") + rows * self.row_len
        new[11] = new[10] + len(b"<strls></strls>") + strls
        new[12] = new[11] + m[12] - m[11]
        new[13] = new[12] + m[13] - m[12]
        out.seek(self.n_at)
        out.write(struct.pack("<Q", rows))
        out.seek(self.map_at)
        out.write(struct.pack("<14Q", *new))


def write_rows(
    fmt: str, spool: Spool, template: Path, codes: Mapping[int, dict[str, int]], out: IO[bytes]
) -> None:
    """The spool's rows as ``fmt`` (sav | dta) into ``out`` (a seekable file at its start),
    with the metadata of ``template`` (pyreadstat's file of one row of the same widths);
    ``codes``: per coded column (by index), its values' codes."""
    _Writer(fmt, spool, template.read_bytes(), codes).write(out)


__all__ = ["TemplateMismatch", "sav_storage", "write_rows"]
