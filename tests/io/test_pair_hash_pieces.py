"""``io._pair_hash.line_chunks`` (views of the mapped file): the pieces, joined, are the file after
its skipped lines and BOM, each ending with an LF; compared with the same cut done plainly here."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.io._pair_hash import line_chunks

BOM = b"\xef\xbb\xbf"


def _plain(raw: bytes, skip_lines: int) -> bytes:
    rest = raw
    for _ in range(skip_lines):
        cut = rest.find(b"\n")
        rest = b"" if cut < 0 else rest[cut + 1 :]
    rest = rest.removeprefix(BOM)
    return rest if not rest or rest.endswith(b"\n") else rest + b"\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=20),
       last_lf=st.booleans(), bom=st.booleans(), skip_lines=st.integers(0, 3), chunk_bytes=st.integers(1, 40))
def test_pieces_join_to_the_file_after_the_skipped_lines(tmp_path, lines, last_lf, bom, skip_lines, chunk_bytes):
    raw = b"\n".join(lines) + (b"\n" if last_lf and lines else b"")
    if bom:
        head, sep, tail = raw.partition(b"\n")
        raw = (head + sep + BOM + tail) if skip_lines == 1 else (BOM + raw if skip_lines == 0 else raw)
    path = tmp_path / "s.tsv"
    path.write_bytes(raw)
    pieces = [bytes(p) for p in line_chunks(path, skip_lines, chunk_bytes)]
    assert b"".join(pieces) == _plain(raw, skip_lines)
    assert all(p.endswith(b"\n") for p in pieces) and all(pieces)
    # a piece holds whole lines: at most chunk_bytes (the last one: and the LF it was given), unless it
    # is one line longer than that
    assert all(len(p) <= chunk_bytes + (i == len(pieces) - 1) or p.count(b"\n") == 1 for i, p in enumerate(pieces))


def test_empty_file_and_header_only_give_no_piece(tmp_path):
    empty, header = tmp_path / "e.tsv", tmp_path / "h.tsv"
    empty.write_bytes(b"")
    header.write_bytes(b"enroll\ttest\tscore\tlabel\n")
    assert list(line_chunks(empty)) == [] and list(line_chunks(header, 1)) == []


def test_three_lines_in_pieces_of_eight_bytes(tmp_path):
    # "aaaa\n" (5 B) + "bbbbbbbbbbbb\n" (13 B) + "cc" (2 B, no LF): cuts after 5 (the LF within the
    # first 8 bytes), then a 13-byte line longer than a piece, then "cc" given its LF
    path = tmp_path / "s.txt"
    path.write_bytes(b"aaaa\nbbbbbbbbbbbb\ncc")
    assert [bytes(p) for p in line_chunks(path, 0, 8)] == [b"aaaa\n", b"bbbbbbbbbbbb\n", b"cc\n"]
