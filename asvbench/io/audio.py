"""Audio input for extraction: listing utterances, decoding, bringing them to the model's rate.

Inputs (:func:`list_audio`)
---------------------------
* a **directory**: every file below it (recursively) whose extension is one of
  :data:`AUDIO_EXTENSIONS` (case-insensitive); other files are ignored;
* a Kaldi **wav.scp** (a file whose name ends in ``.scp``): ``key path`` per line; the key is
  taken as written (``--key-style`` does not apply); piped commands (``... |``) and ``ark:``
  specifiers are refused;
* a **list file** (any other file): one audio path per line.

Relative paths in a list or wav.scp are looked up against the current directory first, then
against the directory holding the list file. Blank lines and lines starting with ``#`` are skipped.

Keys (the rule; ``--key-style``)
--------------------------------
* ``relpath`` (default): the path relative to the input directory (for a list file: the path as
  written in the list, a leading ``./`` dropped), ``/``-separated, **without** its extension:
  ``LA_E_4311043.flac`` -> ``LA_E_4311043``; ``id10270/x6uYqmx31kE/00001.wav`` ->
  ``id10270/x6uYqmx31kE/00001``;
* ``relpath-ext``: the same **with** the extension, as VoxCeleb trial lists name utterances
  (``id10270/x6uYqmx31kE/00001.wav``);
* ``stem``: the file name without extension (``LA_E_4311043``), as ASVspoof protocols name them.

Keys must be unique and free of whitespace (an error names the clash otherwise).

Decoding (:func:`read_audio`) uses soundfile (libsndfile: WAV, FLAC, OGG/Vorbis, MP3) as float32.
Down-mixing (channel mean) and resampling go through :func:`asvbench.frontends.prepare_waveform`
(``torchaudio.functional.resample`` with its defaults), which says what it changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError, at_line
from asvbench.io.formats import KEY_STYLES

KeyStyle = Literal["stem", "relpath", "relpath-ext"]
#: Extensions read by soundfile/libsndfile here.
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")


@dataclass(frozen=True)
class AudioItem:
    """One utterance to extract: its key and where its audio is."""

    key: str
    path: str


@dataclass(frozen=True)
class AudioInfo:
    """Header facts of an audio file (no decoding)."""

    frames: int
    sample_rate: int
    channels: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _check_key_style(key_style: str) -> None:
    check_choice(key_style, KEY_STYLES, "key style")


def make_key(rel: str, key_style: str) -> str:
    """The key of an utterance at relative path ``rel`` (``/``-separated) under ``key_style``."""
    rel = rel.replace(os.sep, "/")
    while rel.startswith("./"):
        rel = rel[2:]
    if key_style == "relpath-ext":
        return rel
    stem_rel = rel[: -len(Path(rel).suffix)] if Path(rel).suffix else rel
    if key_style == "relpath":
        return stem_rel
    return stem_rel.rsplit("/", 1)[-1]


def is_audio_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def _unsupported(path: str, where: str) -> AsvbenchError:
    return AsvbenchError(
        f"unsupported audio format {Path(path).suffix or '(no extension)'!r}: {path}", where=where,
        hint=f"supported: {', '.join(AUDIO_EXTENSIONS)}; convert other formats first (e.g. ffmpeg -i in.m4a out.flac)",
    )


def _check_unique(items: list[AudioItem], source: str | Path) -> None:
    seen: dict[str, str] = {}
    for item in items:
        if not item.key or any(c.isspace() for c in item.key):
            raise AsvbenchError(f"utterance key {item.key!r} (from {item.path}) is empty or contains whitespace",
                                where=source, hint="rename the file, or give keys in a wav.scp")
        if item.key in seen:
            raise AsvbenchError(
                f"two files map to the key {item.key!r}: {seen[item.key]} and {item.path}", where=source,
                hint="use --key-style relpath or relpath-ext, or give keys in a wav.scp",
            )
        seen[item.key] = item.path


def _resolve(path_text: str, list_dir: Path) -> str:
    p = Path(path_text)
    if p.is_absolute() or p.exists():
        return str(p)
    beside = list_dir / p
    return str(beside if beside.exists() else p)


def list_audio(source: str | Path, key_style: str = "relpath") -> list[AudioItem]:
    """List the utterances of a directory, wav.scp or list file (see the module docstring).

    Returns items in input order (directories: sorted by relative path). An empty input, a
    duplicate key, or a path with an unsupported extension in a list is an :class:`AsvbenchError`.
    """
    _check_key_style(key_style)
    src = Path(source)
    if not src.exists():
        raise AsvbenchError("audio input not found", where=src, hint="pass a directory, a wav.scp or a list file")
    if src.is_dir():
        items = _list_dir(src, key_style)
    elif src.suffix.lower() == ".scp":
        items = _list_scp(src)
    else:
        items = _list_file(src, key_style)
    if not items:
        raise AsvbenchError(
            "no audio files in the input", where=src,
            hint=f"a directory must hold files ending in {', '.join(AUDIO_EXTENSIONS)}; a list one path per line",
        )
    _check_unique(items, src)
    return items


def _list_dir(root: Path, key_style: str) -> list[AudioItem]:
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        # a directory named like audio is listed too: extraction records it as a failure (not a file)
        for name in filenames + [d for d in dirnames if is_audio_path(d)]:
            if is_audio_path(name):
                rels.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    rels.sort()
    return [AudioItem(make_key(rel, key_style), str(root / rel)) for rel in rels]


def _data_lines(path: Path) -> list[tuple[int, str]]:
    from asvbench.io._text import read_text

    text = read_text(path)  # a BOM is dropped; a non-UTF-8 byte is an error at its file:line
    return [(no, line.strip()) for no, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def _list_scp(path: Path) -> list[AudioItem]:
    items = []
    first_line: dict[str, int] = {}
    for no, line in _data_lines(path):
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise AsvbenchError(f"expected 'key path', found {line!r}", where=at_line(path, no))
        key, target = parts
        if key in first_line:
            raise AsvbenchError(f"key {key!r} is listed twice: lines {first_line[key]} and {no}",
                                where=at_line(path, no), hint="give every utterance one line (one key)")
        first_line[key] = no
        if target.endswith("|") or target.startswith("ark:") or ".ark:" in target:
            raise AsvbenchError(f"piped commands and ark: entries are not supported: {target!r}",
                                where=at_line(path, no), hint="decode to audio files first and list those")
        if not is_audio_path(target):
            raise _unsupported(target, at_line(path, no))
        items.append(AudioItem(key, _resolve(target, path.parent)))
    return items


def _list_file(path: Path, key_style: str) -> list[AudioItem]:
    items = []
    for no, line in _data_lines(path):
        if not is_audio_path(line):
            if "\x00" in line or len(line) > 4096:
                raise AsvbenchError("not a text list of audio paths", where=path,
                                    hint="pass a directory of audio, a wav.scp or a text list of paths")
            raise _unsupported(line, at_line(path, no))
        items.append(AudioItem(make_key(line, key_style), _resolve(line, path.parent)))
    return items


# ----------------------------------------------------------------------------- decoding


def is_regular_file(path: str | Path) -> bool:
    """True for a regular file (after symlinks); False for directories, pipes, devices, sockets, missing paths."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def audio_info(path: str | Path) -> AudioInfo | None:
    """Frames, rate and channels from the file header; None when the header cannot be read."""
    import soundfile as sf

    if not is_regular_file(path):
        return None
    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - any decoder failure: the caller records it
        return None
    return AudioInfo(frames=int(info.frames), sample_rate=int(info.samplerate), channels=int(info.channels))


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 ``(frames, channels)`` in [-1, 1] and its sample rate.

    Raises ``OSError``/``RuntimeError`` (soundfile's errors) on unreadable files: the
    extraction engine records those as failures.
    """
    import soundfile as sf

    if os.path.exists(path) and not is_regular_file(path):  # a named pipe would block the decoder; a device never ends
        raise OSError("not a regular file (a directory, named pipe or device)")
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data, int(sr)


def load_for_model(path: str | Path, target_sr: int) -> tuple[np.ndarray, list[str]]:
    """Decode, down-mix and resample ``path`` to ``target_sr``: ``((N,) float32, notices)``."""
    from asvbench.frontends import prepare_waveform

    data, sr = read_audio(path)
    if data.shape[0] == 0:
        raise ValueError("file holds no samples")
    wav, notices = prepare_waveform(data, sr, target_sr, channels_first=False)
    return wav.numpy(), notices
