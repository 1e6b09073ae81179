"""Zero-padded waveform batches, as the extraction engine hands them to a model."""

from __future__ import annotations

import torch


def padded_batch(wavs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, max N)`` float32 batch of ``wavs`` zero-padded at the end, and their ``(B,)`` lengths."""
    lengths = torch.tensor([len(w) for w in wavs])
    batch = torch.zeros(len(wavs), int(lengths.max()))
    for i, w in enumerate(wavs):
        batch[i, : len(w)] = w
    return batch, lengths


def speechlike(n: int, seed: int) -> torch.Tensor:
    """``n`` samples at 16 kHz of a tone (150 + 40 * seed Hz) plus seeded noise: a deterministic test input."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 16000
    return 0.3 * torch.sin(2 * torch.pi * (150 + 40 * seed) * t) + 0.05 * torch.randn(n, generator=g)


def assert_batch_equals_one_at_a_time(model, lengths: list[int], embed_dim: int, *, min_cosine: float = 0.99999,
                                      rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """``model.forward`` (a LoadedModel) of one zero-padded batch of :func:`speechlike` inputs of
    ``lengths`` equals its forward of each input alone."""
    wavs = [speechlike(n, i) for i, n in enumerate(lengths)]
    batch, lens = padded_batch(wavs)
    emb = model.forward(batch, lens)
    assert emb.shape == (len(wavs), embed_dim) and torch.isfinite(emb).all()
    for i, w in enumerate(wavs):
        one = model.forward(w[None], torch.tensor([len(w)]))[0]
        assert torch.nn.functional.cosine_similarity(one, emb[i], dim=0).item() >= min_cosine, lengths[i]
        assert torch.allclose(one, emb[i], rtol=rtol, atol=atol), lengths[i]


def assert_store_equals_one_at_a_time(store, model, files: dict, *, min_cosine: float = 0.99999) -> None:
    """Each row of an extracted embedding ``store`` against ``model`` run alone on its file
    (``files``: store key -> audio path), cosine at least ``min_cosine``."""
    import numpy as np
    import soundfile as sf

    for i, key in enumerate(store.keys):
        wav, _ = sf.read(files[key], dtype="float32")
        one = model.forward(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))[0].numpy()
        got = store.matrix[i]
        assert float(got @ one / (np.linalg.norm(got) * np.linalg.norm(one))) >= min_cosine, key
