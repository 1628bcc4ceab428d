"""charrnn's exports in the Python ecosystem: PyTorch reads the safetensors file (strict) and
computes charrnn's loss, onnx.checker accepts the ONNX graph and onnxruntime steps it as charrnn
does, and a 2-process DistributedDataParallel run of examples/pytorch/train_ddp.py comes back
into charrnn. The fixtures come from test/export-python.test.ts (see conftest.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from train_ddp import encode, load

CELLS = ["lstm", "gru", "rnn"]


def charrnn(manifest, *args):
    """Run the CLI; returns stdout (fails the test with stderr on a non-zero exit)."""
    r = subprocess.run([manifest["node"], manifest["bin"], *args], capture_output=True, text=True, cwd=manifest["dir"], timeout=300)
    assert r.returncode == 0, f"charrnn {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def torch_nats_per_char(path, text, dtype=torch.float32):
    """Mean -ln p(next char) over the text, the state carried from the first character on."""
    model, vocab, _ = load(path)
    model = model.to(dtype).eval()
    ids = encode(text, vocab)
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
        return F.cross_entropy(logits[0], ids[1:]).item(), len(ids) - 1


@pytest.mark.parametrize("cell", CELLS)
def test_torch_logits_equal_charrnn_eval(manifest, cell, record_property):
    case = manifest["cases"][cell]
    nats, chars = torch_nats_per_char(case["safetensors"], manifest["heldout"])
    nats64, _ = torch_nats_per_char(case["safetensors"], manifest["heldout"], torch.float64)
    ev = case["eval"]
    assert chars == ev["chars"]
    record_property("chars", chars)
    record_property("charrnn_eval", ev["natsPerChar"])
    record_property("torch_f32_diff", abs(nats - ev["natsPerChar"]))
    record_property("torch_f64_diff", abs(nats64 - ev["natsPerChar"]))
    assert abs(nats - ev["natsPerChar"]) < 1e-5
    assert abs(nats64 - ev["natsPerChar"]) < 1e-5


@pytest.mark.parametrize("cell", CELLS)
def test_onnx_checker_and_onnxruntime_steps_equal_charrnn(manifest, cell, record_property):
    case = manifest["cases"][cell]
    model = onnx.load(case["onnx"])
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    sess = ort.InferenceSession(case["onnx"], providers=["CPUExecutionProvider"])
    ref = case["steps"]
    names = ref["state_names"]
    assert [i.name for i in sess.get_inputs()] == ["ids", *names]
    assert [o.name for o in sess.get_outputs()] == ["logits", *[n + "_out" for n in names]]
    H = json.loads(case["model"])["hidden"]
    feeds = {n: np.zeros((1, H), np.float32) for n in names}
    max_logp, max_state = 0.0, 0.0
    for t, cid in enumerate(ref["ids"]):
        feeds["ids"] = np.array([cid], np.int64)
        logits, *states = sess.run(None, feeds)
        logp = torch.log_softmax(torch.from_numpy(logits[0]).double(), 0).numpy()
        max_logp = max(max_logp, float(np.abs(logp - np.array(ref["logprobs"][t])).max()))
        for n, s, want in zip(names, states, ref["states"][t]):
            want = np.array(want)  # relative to the size of the values: LSTM cells grow past 1
            max_state = max(max_state, float((np.abs(s[0] - want) / (1 + np.abs(want))).max()))
            feeds[n] = s
    record_property("steps", len(ref["ids"]))
    record_property("max_logprob_diff", max_logp)
    record_property("max_state_rel_diff", max_state)
    assert max_logp < 1e-5
    assert max_state < 1e-5


def test_ddp_torchrun_round_trip(manifest, tmp_path, record_property):
    case = manifest["cases"]["lstm"]
    out = str(tmp_path / "trained.safetensors")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           os.path.join(manifest["root"], "examples", "pytorch", "train_ddp.py"),
           "--init", case["safetensors"], "--corpus", manifest["corpus"], "--steps", "20",
           "--batch-size", "4", "--seq-length", "16", "--print-every", "10", "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "step 20/20" in r.stdout and "wrote" in r.stdout

    before, after = load_file(case["safetensors"]), load_file(out)
    assert before.keys() == after.keys()
    changed = max((after[k] - before[k]).abs().max().item() for k in before)
    record_property("max_weight_change", changed)
    assert changed > 0
    # PyTorch trained both LSTM biases: import sums them
    assert after["rnn.bias_hh_l0"].abs().max().item() > 0

    back = str(tmp_path / "back.json")
    charrnn(manifest, "import", out, "-o", back)
    text = charrnn(manifest, "sample", "--checkpoint", back, "--len", "80", "--seed", "1")
    assert len(text) == 80
    ev = json.loads(charrnn(manifest, "eval", manifest["heldout"], "--checkpoint", back, "--json"))
    nats, _ = torch_nats_per_char(out, manifest["heldout"])
    record_property("eval_diff_after_ddp", abs(nats - ev["natsPerChar"]))
    assert abs(nats - ev["natsPerChar"]) < 1e-5
