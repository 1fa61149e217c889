"""What characters a PDF can show, read without a PDF library: the Unicode targets of its fonts' ToUnicode maps
(WeasyPrint embeds a subset of each font with such a map, so a character appears there only if the text uses it)."""

from __future__ import annotations

import re
import zlib

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _streams(pdf: bytes):
    for raw in STREAM.findall(pdf):
        try:
            yield zlib.decompress(raw)
        except zlib.error:
            yield raw


def _text(hexcode: bytes) -> str:
    return bytes.fromhex(hexcode.decode()).decode("utf-16-be", errors="ignore")


def shown_characters(pdf: bytes) -> set[str]:
    out: set[str] = set()
    for body in _streams(pdf):
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", body, re.S):
            for line in block.splitlines():
                codes = re.findall(rb"<([0-9A-Fa-f]+)>", line)
                if len(codes) == 2:
                    out.update(_text(codes[1]))
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", body, re.S):
            for line in block.splitlines():
                codes = re.findall(rb"<([0-9A-Fa-f]+)>", line)
                if len(codes) == 3 and b"[" not in line:
                    first = ord(_text(codes[2])[:1] or "\0")
                    out.update(chr(first + k) for k in range(int(codes[1], 16) - int(codes[0], 16) + 1))
                elif b"[" in line:
                    out.update(ch for code in codes[2:] for ch in _text(code))
    return out


def font_names(pdf: bytes) -> set[str]:
    """The embedded fonts' names (in the file or in its compressed object streams)."""
    names = set()
    for body in [pdf, *_streams(pdf)]:
        names.update(m.decode(errors="ignore") for m in re.findall(rb"/BaseFont\s*/([^\s/<>\[\]]+)", body))
    return names
