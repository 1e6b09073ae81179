"""Audio input: listing (directory, wav.scp, list), key rules, decoding, down-mix, resampling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asvbench.errors import AsvbenchError
from asvbench.io.audio import AUDIO_EXTENSIONS, list_audio, load_for_model, make_key, read_audio
from tests.conftest import shared_path


def _touch_wav(path: Path, n: int = 800, sr: int = 16000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.zeros((n, channels), np.float32)
    sf.write(path, data, sr)
    return path


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    _touch_wav(root / "id10270" / "x6uYqmx31kE" / "00001.wav")
    _touch_wav(root / "id10270" / "x6uYqmx31kE" / "00002.wav")
    _touch_wav(root / "LA_E_4311043.flac")
    (root / "notes.txt").write_text("not audio")
    (root / "id10270" / "README").write_text("not audio")
    return root


@pytest.mark.parametrize(("style", "expected"), [
    ("relpath", ["LA_E_4311043", "id10270/x6uYqmx31kE/00001", "id10270/x6uYqmx31kE/00002"]),
    ("relpath-ext", ["LA_E_4311043.flac", "id10270/x6uYqmx31kE/00001.wav", "id10270/x6uYqmx31kE/00002.wav"]),
    ("stem", ["LA_E_4311043", "00001", "00002"]),
])
def test_directory_keys_follow_the_key_style(tree: Path, style: str, expected: list[str]) -> None:
    items = list_audio(tree, style)
    assert [it.key for it in items] == expected  # sorted by relative path; .txt and README ignored
    assert all(Path(it.path).is_file() for it in items)


def test_make_key_rules() -> None:
    assert make_key("./id10270/x6uYqmx31kE/00001.wav", "relpath-ext") == "id10270/x6uYqmx31kE/00001.wav"
    assert make_key("./id10270/x6uYqmx31kE/00001.wav", "relpath") == "id10270/x6uYqmx31kE/00001"
    assert make_key("a/b/LA_E_4311043.flac", "stem") == "LA_E_4311043"


def test_stem_keys_that_clash_are_an_error(tmp_path: Path) -> None:
    _touch_wav(tmp_path / "a" / "x.wav")
    _touch_wav(tmp_path / "b" / "x.wav")
    with pytest.raises(AsvbenchError, match="two files map to the key 'x'"):
        list_audio(tmp_path, "stem")


def test_wav_scp_keys_as_written_and_paths_beside_the_list(tmp_path: Path) -> None:
    _touch_wav(tmp_path / "audio" / "one.wav")
    _touch_wav(tmp_path / "audio" / "two.flac")
    scp = tmp_path / "wav.scp"
    scp.write_text("utt-b audio/two.flac\n\n# comment\nutt-a audio/one.wav\n")
    items = list_audio(scp)
    assert [(it.key, Path(it.path).name) for it in items] == [("utt-b", "two.flac"), ("utt-a", "one.wav")]
    assert all(Path(it.path).is_file() for it in items)


def test_wav_scp_pipe_is_refused(tmp_path: Path) -> None:
    scp = tmp_path / "wav.scp"
    scp.write_text("u1 sox a.wav -t wav - |\n")
    with pytest.raises(AsvbenchError, match="piped commands") as info:
        list_audio(scp)
    assert info.value.where == f"{scp}:1"


def test_list_file_keys_and_unsupported_format(tmp_path: Path) -> None:
    _touch_wav(tmp_path / "d" / "u1.wav")
    lst = tmp_path / "list.txt"
    lst.write_text("d/u1.wav\n")
    assert [it.key for it in list_audio(lst)] == ["d/u1"]
    assert [it.key for it in list_audio(lst, "stem")] == ["u1"]
    lst.write_text("d/u1.wav\nd/u2.m4a\n")
    with pytest.raises(AsvbenchError, match="unsupported audio format '.m4a'") as info:
        list_audio(lst)
    assert info.value.where == f"{lst}:2"
    assert ".flac" in (info.value.hint or "")


def test_empty_inputs_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AsvbenchError, match="no audio files"):
        list_audio(tmp_path / "empty")
    lst = tmp_path / "list.txt"
    lst.write_text("\n# nothing\n")
    with pytest.raises(AsvbenchError, match="no audio files"):
        list_audio(lst)
    with pytest.raises(AsvbenchError, match="not found"):
        list_audio(tmp_path / "missing")
    with pytest.raises(AsvbenchError, match="unknown key style"):
        list_audio(tmp_path / "empty", "basename")


def test_read_audio_float32_and_stereo_downmix(tmp_path: Path) -> None:
    sr = 16000
    left = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    right = np.full(1000, 0.25, np.float32)
    p = tmp_path / "st.wav"
    sf.write(p, np.stack([left, right], axis=1), sr, subtype="FLOAT")
    data, rate = read_audio(p)
    assert data.dtype == np.float32 and data.shape == (1000, 2) and rate == sr
    mono, notices = load_for_model(p, sr)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-7)  # channel mean
    assert any("down-mixed 2 channels" in n for n in notices)


def test_resampling_length_and_tone(tmp_path: Path) -> None:
    sr_in, sr_out, n = 22050, 16000, 22050
    t = np.arange(n) / sr_in
    p = tmp_path / "tone.wav"
    sf.write(p, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr_in, subtype="FLOAT")
    wav, notices = load_for_model(p, sr_out)
    assert wav.shape[0] == math.ceil(n * sr_out / sr_in)  # 16000: torchaudio's output length rule
    assert notices == ["resampled 22050 Hz to 16000 Hz"]
    # a 440 Hz tone stays a 440 Hz tone: its spectrum peaks at bin 440 of a 1 s, 16 kHz FFT
    spectrum = np.abs(np.fft.rfft(wav[:16000]))
    assert int(np.argmax(spectrum)) == 440


def test_real_asvspoof_files_give_protocol_keys(shared_dir: Path) -> None:
    folder = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    keys = [it.key for it in list_audio(folder)]
    assert keys == ["LA_E_4311043", "LA_E_8411060", "LA_E_8411845", "LA_E_9296375", "LA_E_9297933"]


def test_real_stereo_ogg_decodes_and_downmixes(shared_dir: Path) -> None:
    folder = shared_path(shared_dir, "audio/fillets_ng_nl_2spk")
    first = sorted(folder.rglob("*.ogg"))[0]
    data, sr = read_audio(first)
    assert sr == 22050 and data.shape[1] == 2
    wav, notices = load_for_model(first, 16000)
    assert wav.ndim == 1 and wav.shape[0] == math.ceil(data.shape[0] * 16000 / 22050)
    assert len(notices) == 2


def test_extensions_are_what_soundfile_reads() -> None:
    formats = {f".{k.lower()}" for k in sf.available_formats()}
    assert set(AUDIO_EXTENSIONS) <= formats | {".ogg", ".mp3"}
