"""Bad embedding stores and centring vectors: one clear AsvbenchError each, naming the file (and line or
byte), saying what to do; through `asvbench score`: exit 2, no traceback, no output left."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import kaldiio
import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import load_embeddings, write_native_store
from asvbench.scoring.cosine import load_center
from asvbench.testing import write_trials
from asvbench.types import Label

KEYS = ["a", "b", "c"]
MATRIX = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)


def native(tmp_path: Path, matrix=MATRIX, keys=KEYS) -> Path:
    return write_native_store(tmp_path / "store", keys, matrix)


def native_damaged(damage: Callable[[Path], object]) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        path = native(tmp_path)
        damage(path)
        return path
    return build


def with_nan(row: int, col: int, value: float = np.nan) -> np.ndarray:
    m = MATRIX.copy()
    m[row, col] = value
    return m


def kaldi(tmp_path: Path, items: dict[str, np.ndarray]) -> tuple[Path, Path]:
    ark, scp = tmp_path / "e.ark", tmp_path / "e.scp"
    kaldiio.save_ark(str(ark), items, scp=str(scp))
    return ark, scp


def kaldi_scp(items: dict[str, np.ndarray], edit: Callable[[Path, Path], object] | None = None):
    def build(tmp_path: Path) -> Path:
        ark, scp = kaldi(tmp_path, items)
        if edit is not None:
            edit(ark, scp)
        return scp
    return build


def npz(items: dict[str, np.ndarray], edit: Callable[[Path], object] | None = None):
    def build(tmp_path: Path) -> Path:
        path = tmp_path / "e.npz"
        np.savez(path, **items)
        if edit is not None:
            edit(path)
        return path
    return build


def file_with(name: str, content: bytes) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        (tmp_path / name).write_bytes(content)
        return tmp_path / name
    return build


def _scp_second_line(text: str) -> Callable[[Path, Path], object]:
    def edit(ark: Path, scp: Path) -> None:
        first = scp.read_text().splitlines()[0]
        scp.write_text(first + "\n" + text.format(ark=ark) + "\n")
    return edit


def _offsets(values: list[int]) -> Callable[[Path], object]:
    def damage(path: Path) -> None:
        np.save(path / "offsets.npy", np.array(values, np.int64))
    return damage


VEC = {k: MATRIX[i] for i, k in enumerate(KEYS)}

#: (case, builder, fragments the message holds besides the file name)
BAD_STORES = [
    ("manifest is a JSON list", native_damaged(lambda p: (p / "manifest.json").write_text("[1, 2]")),
     ["manifest holds a JSON list, not an object"]),
    ("manifest is a JSON string", native_damaged(lambda p: (p / "manifest.json").write_text('"store"')),
     ["manifest holds a JSON str"]),
    ("empty native store", lambda t: write_native_store(t / "store", [], np.zeros((0, 2), np.float32)),
     ["embedding store is empty"]),
    ("zero-column native store", lambda t: write_native_store(t / "store", KEYS, np.zeros((3, 0), np.float32)),
     ["zero columns"]),
    ("text file named embeddings.npy", native_damaged(lambda p: (p / "embeddings.npy").write_text("1 2\n3 4\n")),
     ["not a .npy file"]),
    ("object embeddings.npy", native_damaged(
        lambda p: np.save(p / "embeddings.npy", np.array([None, 1], dtype=object), allow_pickle=True)),
     ["Python objects"]),
    ("integer embeddings.npy", native_damaged(lambda p: np.save(p / "embeddings.npy", np.ones((3, 2), np.int32))),
     ["int32 values, not floats"]),
    ("offsets not increasing", lambda t: _multi_then(t, [0, 2, 1, 4]),
     ["offsets.npy is not increasing: entry 2 is 1 after 2"]),
    ("offsets of the wrong length", lambda t: _multi_then(t, [0, 2, 4]),
     ["offsets.npy has shape (3,), expected (4,)"]),
    ("offsets past the rows", lambda t: _multi_then(t, [0, 1, 2, 9]), ["expected 0 to 4"]),
    ("NaN in a native store", lambda t: native(t, with_nan(1, 0)),
     ["key 'b' (row 1, column 0) holds NaN", "re-extract"]),
    ("inf in a native store", lambda t: native(t, with_nan(2, 1, np.inf)),
     ["key 'c' (row 2, column 1) holds an infinite value"]),
    ("NaN in a Kaldi store", kaldi_scp({"a": MATRIX[0], "b": with_nan(1, 1)[1]}), ["key 'b' (row 1, column 1)"]),
    ("NaN in an .npz", npz({"a": MATRIX[0], "b": MATRIX[1], "c": with_nan(2, 0)[2]}), ["key 'c' (row 2"]),
    ("NaN in a multi-row key", lambda t: _multi_nan(t), ["key 'b' (row 3, column 0) holds NaN"]),
    (".npz that is not a zip", file_with("e.npz", b"a 1 2\nb 3 4\n"), ["not a valid .npz (zip) file"]),
    ("truncated .npz", npz(VEC, lambda p: p.write_bytes(p.read_bytes()[:300])), ["not a valid .npz"]),
    (".npz with an object array", npz({"a": MATRIX[0], "b": np.array([{}], dtype=object)}),
     ["'b'", "Python objects", "never unpickles"]),
    (".npz with text", npz({"a": np.array(["x", "y"])}), ["<U1 values, not numbers"]),
    ("empty .npz", npz({}), ["embedding store is empty"]),
    (".npz zero-column vectors", npz({"a": np.zeros(0, np.float32), "b": np.zeros(0, np.float32)}),
     ["zero columns"]),
    (".npz 3-D array", npz({"a": np.zeros((1, 2, 2), np.float32)}), ["has shape (1, 2, 2)"]),
    ("scp offset beyond its ark", kaldi_scp(VEC, _scp_second_line("b {ark}:99999")),
     ["e.scp:2", "offset 99999 is beyond the end of", "bytes)"]),
    ("scp line without a path", kaldi_scp(VEC, _scp_second_line("b")), ["e.scp:2", "no ark path"]),
    ("scp offset not at a record", kaldi_scp(VEC, _scp_second_line("b {ark}:5")),
     ["e.scp:2", "no Kaldi record at byte 5"]),
    ("scp naming a missing ark", kaldi_scp(VEC, _scp_second_line("b {ark}.gone:3")),
     ["e.scp:2", "e.ark.gone not found"]),
    ("empty scp", file_with("e.scp", b"\n\n"), ["embedding store is empty"]),
    ("non-UTF-8 scp", file_with("e.scp", b"a x.ark:3\nb\xff y.ark:3\n"), ["e.scp:2", "not UTF-8"]),
    ("truncated ark via scp", kaldi_scp(VEC, lambda ark, scp: ark.write_bytes(ark.read_bytes()[:-3])),
     ["e.scp:3", "truncated record 'c' at byte"]),
    ("zero-column Kaldi vectors", kaldi_scp({"a": np.zeros(0, np.float32), "b": np.zeros(0, np.float32)}),
     ["zero columns"]),
    ("Kaldi vectors of two sizes", kaldi_scp({"a": np.ones(2, np.float32), "b": np.ones(3, np.float32)}),
     ["different dimensions", "[2, 3]"]),
    ("duplicate key in an scp", kaldi_scp(VEC, lambda ark, scp: scp.write_text(scp.read_text() * 2)),
     ["3 duplicate keys"]),
]


def _multi_then(tmp_path: Path, offsets: list[int]) -> Path:
    path = write_native_store(tmp_path / "store", KEYS, np.ones((4, 2), np.float32), offsets=[0, 2, 3, 4])
    _offsets(offsets)(path)
    return path


def _multi_nan(tmp_path: Path) -> Path:
    m = np.ones((5, 2), np.float32)
    m[3, 0] = np.nan
    return write_native_store(tmp_path / "store", KEYS, m, offsets=[0, 2, 4, 5])  # b owns rows 2 and 3


@pytest.mark.parametrize("case,build,fragments", BAD_STORES, ids=[c[0] for c in BAD_STORES])
def test_bad_store_is_one_clear_error(tmp_path, case, build, fragments):
    path = build(tmp_path)
    with pytest.raises(AsvbenchError) as info:
        load_embeddings(path)
    message = str(info.value)
    assert str(path) in message or str(path.parent) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "allow_pickle" not in message and "unsafe" not in message  # never pass numpy's advice on


BAD_CENTERS = [
    ("text file named .npy", file_with("c.npy", b"0.5 0.5\n"), ["not a .npy file"]),
    ("NaN in the vector", lambda t: _npy(t, np.array([0.5, np.nan])), ["holds NaN at index 1"]),
    ("inf in the vector", lambda t: _npy(t, np.array([np.inf, 0.5])), ["infinite value at index 0"]),
    ("object array", lambda t: _npy(t, np.array([None, 1.0], dtype=object)), ["Python objects"]),
    ("a matrix", lambda t: _npy(t, np.ones((2, 2))), ["must hold one vector, got shape (2, 2)"]),
    ("wrong size", lambda t: _npy(t, np.ones(3)), ["the centring vector has 3 values, the embeddings 2", "hint:"]),
    ("a store with NaN", lambda t: native(t, with_nan(0, 1)), ["key 'a' (row 0, column 1) holds NaN"]),
]


def _npy(tmp_path: Path, value: np.ndarray) -> Path:
    np.save(tmp_path / "c.npy", value, allow_pickle=value.dtype.hasobject)
    return tmp_path / "c.npy"


@pytest.mark.parametrize("case,build,fragments", BAD_CENTERS, ids=[c[0] for c in BAD_CENTERS])
def test_bad_center_is_one_clear_error(tmp_path, case, build, fragments):
    path = build(tmp_path)
    with pytest.raises(AsvbenchError) as info:
        load_center(path, dim=2)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


# ----------------------------------------------------------------------------- through the CLI

runner = CliRunner()


def _trials(tmp_path: Path, test: list[str] | None = None) -> Path:
    path = tmp_path / "trials.txt"
    write_trials(path, ["a", "a", "b"], test or ["b", "c", "c"], [Label.NONTARGET, Label.TARGET, Label.TARGET],
                 "voxceleb")
    return path


def _assert_refused(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = runner.invoke(app, ["score", *args, "--out", str(out_dir / "scores.tsv")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "hint:" in result.output, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert list(out_dir.iterdir()) == []  # no output, no temporary file


@pytest.mark.parametrize("case", ["NaN in a native store", "manifest is a JSON list", "scp offset beyond its ark",
                                  ".npz with an object array", "offsets not increasing", "text file named embeddings.npy"])
def test_score_refuses_bad_store_leaving_nothing(tmp_path, case):
    _, build, fragments = next(c for c in BAD_STORES if c[0] == case)
    store = build(tmp_path)
    _assert_refused(tmp_path, ["--trials", str(_trials(tmp_path)), "--embeddings", str(store)], fragments)


@pytest.mark.parametrize("case", ["NaN in the vector", "wrong size", "text file named .npy"])
def test_score_refuses_bad_center_leaving_nothing(tmp_path, case):
    _, build, fragments = next(c for c in BAD_CENTERS if c[0] == case)
    center = build(tmp_path)
    _assert_refused(tmp_path, ["--trials", str(_trials(tmp_path)), "--embeddings", str(native(tmp_path)),
                               "--center", str(center)], fragments)


def test_score_names_the_line_of_a_missing_key(tmp_path):
    trials = _trials(tmp_path, test=["b", "zz", "c"])  # line 2 is the first trial with a key not in the store
    store = native(tmp_path)
    _assert_refused(tmp_path, ["--trials", str(trials), "--embeddings", str(store)],
                    [f"{trials}:2", f"missing from the embedding store {store}", "'zz'", "--allow-missing"])


def test_manifest_json_type_checked_by_read_manifest(tmp_path):
    from asvbench.io.embeddings import read_manifest

    path = native(tmp_path)
    (path / "manifest.json").write_text(json.dumps(3))
    with pytest.raises(AsvbenchError, match="manifest holds a JSON int"):
        read_manifest(path)
