"""From bytes to UTF-8 text, decided by the evidence in each line.

Spreadsheets and scrapers write text in many encodings, and files get patched together: a
UTF-8 export with one row pasted in from Excel (Windows-1252), or a few bytes broken in
transit. Decoding the whole file in a guessed legacy encoding because a few bytes are not
UTF-8 would garble every accented letter of every other post. So the file is decoded line by
line: a line that is valid UTF-8 is UTF-8; a line that is not is read in the file's legacy
encoding (Windows-1252 unless the bad lines read as a non-Latin one, e.g. Cyrillic cp1251);
a line that holds valid UTF-8 letters *and* broken bytes is UTF-8 with the broken bytes
replaced by U+FFFD. Every line read otherwise than the file as a whole is logged as a repair
with its line number. A file already clean UTF-8 is passed on untouched (not even copied).

UTF-16 and UTF-32 (found by their byte-order mark, or by the NUL bytes of UTF-16 text
without one) are transcoded to UTF-8. Images, archives and other binary files are refused.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import charset_normalizer

from stigma_core.errors import CorpusError
from stigma_core.io.report import RepairLog
from stigma_core.io.sources import Blob, not_text, reject_binary

SNIFF_BYTES = 65_536
UTF16_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_NAMES = {"cp1252": "Windows-1252 (cp1252)", "utf-8": "UTF-8"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ESCAPED = re.compile("[\udc80-\udcff]")
_LINE_END = re.compile(r"\r\n|\r|\n")
# Letters of scripts a cp1252 misreading never produces (Greek, Cyrillic, Hebrew, Arabic,
# Thai, kana, CJK, Hangul): a legacy-encoded file that decodes to them is not cp1252.
_NON_LATIN = re.compile(
    "[\u0370-\u052f\u0590-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
)


@dataclass
class _Evidence:
    """What a first pass over the bytes found: chunks that are not clean UTF-8, NULs, and how
    much valid non-ASCII UTF-8 there is beside the invalid lines."""

    dirty_chunks: set[int] = field(default_factory=set)
    utf8_chars: int = 0
    bad_lines: int = 0
    bad_sample: bytearray = field(default_factory=bytearray)


def utf8_blob(blob: Blob, repairs: RepairLog) -> tuple[Blob, str]:
    """The input as UTF-8 (the same Blob when it already is) and the encoding it was found in.

    A UTF-8 byte-order mark is kept (the table readers skip it); any other is removed.
    """
    head = blob.head(SNIFF_BYTES)
    reject_binary(head, blob.label)
    for bom, encoding in UTF16_BOMS:
        if head.startswith(bom):
            return _transcoded(blob, encoding, repairs), encoding
    encoding = _utf16_by_nuls(head[:4096])
    if encoding:
        return _transcoded(blob, encoding, repairs), encoding
    _check_head(head, blob.label)
    evidence = _first_pass(blob)
    base = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if not evidence.dirty_chunks:
        return blob, base
    legacy = _legacy_encoding(bytes(evidence.bad_sample))
    mostly_legacy = evidence.bad_lines > evidence.utf8_chars
    fixed = _rewritten(blob, evidence, legacy, mostly_legacy, repairs)
    return fixed, (legacy if mostly_legacy else base)


def text_of(blob: Blob, repairs: RepairLog) -> tuple[str, str]:
    """The whole input as one string (for JSON) and the encoding it was found in."""
    utf8, encoding = utf8_blob(blob, repairs)
    return utf8.read().decode("utf-8").removeprefix("\ufeff"), encoding


def _check_head(head: bytes, label: str) -> None:
    """CorpusError when the start of a text file is mostly NULs or control characters."""
    nuls = head.count(0)
    if nuls > max(8, len(head) // 1000):
        raise CorpusError(not_text(label, "it holds binary bytes, not characters"))
    sample = head.replace(b"\x00", b"").decode("utf-8", errors="surrogateescape")
    if len(_CONTROL.findall(sample)) > 0.01 * max(len(sample), 1):
        raise CorpusError(not_text(label, "it holds binary bytes (it is full of control "
                                          "characters)"))


def _utf16_by_nuls(sample: bytes) -> str | None:
    """utf-16-le/-be when NULs fill one byte of every pair (ASCII text without a BOM)."""
    even, odd = sample[0::2], sample[1::2]
    if not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _first_pass(blob: Blob) -> _Evidence:
    """Which chunks need line-by-line decoding, and the evidence for the file's encoding."""
    evidence = _Evidence()
    for index, chunk in enumerate(blob.chunks()):
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            evidence.dirty_chunks.add(index)
            _weigh_lines(chunk, evidence)
            continue
        evidence.utf8_chars += len(chunk) - len(text)  # bytes beyond one per character
        if b"\x00" in chunk:
            evidence.dirty_chunks.add(index)
    return evidence


def _weigh_lines(chunk: bytes, evidence: _Evidence) -> None:
    """Count the chunk's valid non-ASCII UTF-8 and its invalid lines (sampled for later)."""
    for line in chunk.splitlines(keepends=True):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            evidence.bad_lines += 1
            if len(evidence.bad_sample) < SNIFF_BYTES:
                evidence.bad_sample += line
            continue
        evidence.utf8_chars += len(line) - len(text)


def _legacy_encoding(sample: bytes) -> str:
    """cp1252 (what Excel on Windows writes for Western text) unless charset-normalizer
    finds a coherent reading in a non-Latin script (e.g. Cyrillic cp1251).

    charset-normalizer alone is not trusted for Latin text: on short cp1252 samples it often
    prefers cp1250 or even Big5 (seen here), which would garble "crème" or "it’s".
    """
    if not sample:
        return "cp1252"
    best = charset_normalizer.from_bytes(sample).best()
    if best is not None and best.coherence >= 0.2 and _NON_LATIN.search(str(best)):
        return best.encoding
    return "cp1252"


def _rewritten(blob: Blob, evidence: _Evidence, legacy: str, mostly_legacy: bool,
               repairs: RepairLog) -> Blob:
    """The input with every line that is not clean UTF-8 decoded per its own evidence."""
    pieces: list[bytes] = []
    line_number = 0
    for index, chunk in enumerate(blob.chunks()):
        if index not in evidence.dirty_chunks and not mostly_legacy:
            pieces.append(chunk)
            line_number += _count_lines(chunk)
            continue
        for line in chunk.splitlines(keepends=True):
            line_number += 1
            text = _decoded_line(line, line_number, legacy, mostly_legacy, repairs)
            pieces.append(text.encode("utf-8"))
    data = b"".join(pieces)
    return Blob(blob.label, len(data), data=data)


def _count_lines(chunk: bytes) -> int:
    """Lines as csv and editors count them: ended by \\n, \\r\\n or a lone \\r."""
    ends = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
    return ends + (1 if chunk and chunk[-1:] not in (b"\n", b"\r") else 0)


def _decoded_line(line: bytes, number: int, legacy: str, mostly_legacy: bool,
                  repairs: RepairLog) -> str:
    """One line decoded per its evidence (see the module docstring), its repairs logged."""
    if b"\x00" in line:
        line = line.replace(b"\x00", b"")
        repairs.add("nul_removed", "removed NUL bytes (character 0)",
                    "NUL bytes are not text; they come from a broken export", line=number)
    legacy_name = ENCODING_NAMES.get(legacy, legacy)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if mostly_legacy and not text.isascii():
            repairs.add("line_decoded", "read as UTF-8",
                        f"this line is valid UTF-8, unlike the rest of the file "
                        f"({legacy_name})", line=number)
        return text
    escaped = line.decode("utf-8", errors="surrogateescape")
    if _ESCAPED.sub("", escaped).isascii():  # no valid UTF-8 letter: a legacy line
        try:
            text = line.decode(legacy)
        except UnicodeDecodeError:
            text = line.decode(legacy, errors="replace")
            repairs.add("bytes_replaced", f"read as {legacy_name}; bytes that are no "
                        "character in it replaced by \ufffd",
                        "the line is neither valid UTF-8 nor valid " + legacy_name,
                        line=number)
            return text
        if not mostly_legacy:
            repairs.add("line_decoded", f"read as {legacy_name}",
                        "this line is not valid UTF-8, unlike the rest of the file; check "
                        "its accented letters", line=number)
        return text
    bad = len(_ESCAPED.findall(escaped))
    repairs.add("bytes_replaced", f"{bad} byte{'s' * (bad != 1)} replaced by \ufffd",
                "the line is UTF-8 with broken bytes in it (from a damaged copy)",
                line=number)
    return line.decode("utf-8", errors="replace")


def _transcoded(blob: Blob, encoding: str, repairs: RepairLog) -> Blob:
    """A UTF-16/32 input as UTF-8, chunk by chunk; code units that are no character become
    U+FFFD, logged by line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pieces: list[bytes] = []
    line_number = 0
    with blob.open() as stream:
        while True:
            chunk = stream.read(16 << 20)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError:
                decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                text = decoder.decode(chunk, final=final)
                _log_replacements(text, line_number, encoding, repairs)
            text = text.removeprefix("\ufeff") if not pieces else text
            line_number += text.count("\n") + text.count("\r") - text.count("\r\n")
            pieces.append(text.encode("utf-8"))
            if final:
                break
    data = b"".join(pieces)
    _check_head(data[:SNIFF_BYTES], blob.label)
    return Blob(blob.label, len(data), data=data)


def _log_replacements(text: str, before: int, encoding: str, repairs: RepairLog) -> None:
    """A repair for each line of ``text`` holding U+FFFD (numbered from ``before`` + 1)."""
    for offset, line in enumerate(_LINE_END.split(text)):
        if "\ufffd" in line:
            repairs.add("bytes_replaced", "bytes that are no character replaced by \ufffd",
                        f"the line is not valid {encoding.upper()}", line=before + offset + 1)
