"""The peers of `npm run bench`, measured the same way: PyTorch on CPU and a numpy transcription
of min-char-rnn, on data/tinyshakespeare.txt. Not a test; never run by CI.

The main peer is PyTorch 2.x (oneDNN LSTM), what a user would pick instead, in a venv:

  python3 -m venv /tmp/torch2 && /tmp/torch2/bin/pip install torch==2.13.0+cpu numpy
  /tmp/torch2/bin/python3 bench/pytorch_bench.py [--window 2] [--windows 5] [--configs C1,C2,C3]
                                                 [--threads 2] [--sweep]

PyTorch 2 runs with torch.set_num_threads(2) (--threads; default: all cores, at most 2 as in
`npm run bench`). --sweep adds the training shapes of bench/sweep.ts (2-layer LSTM, hidden
128-1024, embed 0/64/H, batch x seq 16x32, 32x64, 64x64).

Footnote, Debian's PyTorch 1.13 (apt-get install python3-torch libopenblas0-pthread python3-numpy):
run it with 1 torch thread on top of 2 OpenBLAS threads (2 torch threads on top of OpenBLAS's own
oversubscribe 2 cores and run 3-4x slower); --threads defaults to 1 for torch 1.x:

  OPENBLAS_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
    /usr/bin/python3 bench/pytorch_bench.py

Each figure is the median characters/second of several timed windows after a warm-up window,
with GFLOP/s of useful work counted as bench/measure.ts does (training = 3 x forward).
Configurations as in bench/bench.ts:
  C1: rnn, hidden 100, 1 layer, one-hot, seq 25, batch 1, Adagrad lr 0.1 (min-char-rnn)
  C2: lstm, hidden 128, 2 layers, embedding 128, seq 50, batch 50
  C3: lstm, hidden 512, 2 layers, embedding 512, seq 50, batch 50
"""

import argparse
import json
import os
import time

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--window", type=float, default=2.0)
ap.add_argument("--windows", type=int, default=5)
ap.add_argument("--configs", default="C1,C2,C3")
ap.add_argument("--threads", type=int, default=0, help="torch threads (0: min(2, cores) for torch 2, 1 for torch 1.x)")
ap.add_argument("--sweep", action="store_true", help="also the training shapes of bench/sweep.ts")
args = ap.parse_args()
TORCH2 = int(torch.__version__.split(".")[0]) >= 2
threads = args.threads or (min(2, os.cpu_count() or 1) if TORCH2 else 1)
torch.set_num_threads(threads)
print(f"pytorch {torch.__version__}, {threads} thread(s); median of {args.windows} windows of {args.window} s", flush=True)
torch.manual_seed(1)
np.random.seed(1)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
text = open(os.path.join(root, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
chars = sorted(set(text))
V = len(chars)
stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in text], dtype=np.int64)
train = data[: len(data) - len(data) // 10]


def measure(step):
    """Median units/second over timed windows, after one warm-up window."""
    def window():
        t0 = time.perf_counter()
        units = 0
        while True:
            units += step()
            if time.perf_counter() - t0 >= args.window:
                return units / (time.perf_counter() - t0)
    window()
    rates = sorted(window() for _ in range(args.windows))
    return rates[len(rates) // 2]


results = []


def forward_flops(kind, H, L, E):
    """Useful flops of one forward character, as bench/measure.ts counts them."""
    G = 4 * H if kind == "lstm" else 3 * H if kind == "gru" else H
    f = 0
    for l in range(L):
        I = H if l > 0 else (E if E > 0 else V)
        f += 2 * G * (I + H)
    return f + 2 * H * V


def report(name, task, impl, cps, flops=None):
    """flops: useful flops per character (training counts 3 x forward)."""
    gflops = cps * flops / 1e9 if flops else None
    results.append({"bench": "peer", "config": name, "task": task, "impl": impl, "threads": threads, "charsPerSec": cps, "gflops": gflops})
    extra = f" {gflops:8.2f} GFLOP/s" if gflops else ""
    print(f"{name} {task:6s} {impl:28s} {cps:12,.0f} chars/s{extra}", flush=True)


# ---- C1, numpy: a direct transcription of min-char-rnn (loss summed over the chunk) ----
def minchar_numpy():
    H, T, lr = 100, 25, 1e-1
    Wxh = np.random.randn(H, V) * 0.01
    Whh = np.random.randn(H, H) * 0.01
    Why = np.random.randn(V, H) * 0.01
    bh = np.zeros((H, 1))
    by = np.zeros((V, 1))
    mem = [np.zeros_like(p) for p in (Wxh, Whh, Why, bh, by)]
    state = {"p": 0, "h": np.zeros((H, 1))}

    def step():
        p = state["p"]
        if p + T + 1 >= len(train):
            p, state["h"] = 0, np.zeros((H, 1))
        inputs, targets = train[p : p + T], train[p + 1 : p + T + 1]
        xs, hs, ps = {}, {-1: state["h"]}, {}
        for t in range(T):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            ys = Why @ hs[t] + by
            e = np.exp(ys - ys.max())
            ps[t] = e / e.sum()
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(T)):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        for p_, d, m in zip((Wxh, Whh, Why, bh, by), (dWxh, dWhh, dWhy, dbh, dby), mem):
            np.clip(d, -5, 5, out=d)
            m += d * d
            p_ += -lr * d / np.sqrt(m + 1e-8)
        state["h"] = hs[T - 1]
        state["p"] = p + T
        return T

    report("C1", "train", "numpy min-char-rnn", measure(step))


# ---- PyTorch models ----
class CharModel(torch.nn.Module):
    def __init__(self, kind, H, L, E):
        super().__init__()
        self.E = E
        self.emb = torch.nn.Embedding(V, E) if E > 0 else None
        I = E if E > 0 else V
        cell = torch.nn.LSTM if kind == "lstm" else torch.nn.RNN
        self.rnn = cell(I, H, L)
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state):
        x = self.emb(x) if self.emb is not None else torch.nn.functional.one_hot(x, V).float()
        y, state = self.rnn(x, state)
        return self.out(y), state


def torch_train(name, kind, H, L, E, B, T, lr):
    model = CharModel(kind, H, L, E)
    opt = torch.optim.Adagrad(model.parameters(), lr=lr)
    n = (len(train) - 1) // B
    streams = torch.from_numpy(train[: n * B + 1])
    st = {"pos": 0, "state": None}

    def step():
        pos = st["pos"]
        if pos + T > n - 1:
            pos, st["state"] = 0, None
        idx = torch.arange(B) * n + pos
        x = torch.stack([streams[idx + t] for t in range(T)])  # (T, B)
        y = torch.stack([streams[idx + t + 1] for t in range(T)])
        logits, state = model(x, st["state"])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-5, 5)
        opt.step()
        st["state"] = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        st["pos"] = pos + T
        return B * T

    report(name, "train", f"pytorch {torch.__version__}", measure(step), 3 * forward_flops(kind, H, L, E))
    return model


def torch_sample(name, model, flops=None):
    model.eval()
    st = {"x": torch.zeros(1, 1, dtype=torch.long), "state": None}

    def step():
        with torch.no_grad():
            for _ in range(100):
                logits, st["state"] = model(st["x"], st["state"])
                p = torch.softmax(logits[0, 0], dim=-1)
                st["x"] = torch.multinomial(p, 1).view(1, 1)
        return 100

    report(name, "sample", f"pytorch {torch.__version__}", measure(step), flops)


configs = args.configs.split(",")
if "C1" in configs:
    minchar_numpy()
    torch_train("C1", "rnn", 100, 1, 0, 1, 25, 0.1)
if "C2" in configs:
    torch_sample("C2", torch_train("C2", "lstm", 128, 2, 128, 50, 50, 0.03), forward_flops("lstm", 128, 2, 128))
if "C3" in configs:
    torch_sample("C3", torch_train("C3", "lstm", 512, 2, 512, 50, 50, 0.03), forward_flops("lstm", 512, 2, 512))
if args.sweep:
    # bench/sweep.ts's shapes (its optimizer is Adam; the optimizer is a small part of a step)
    for H in (128, 256, 512, 1024):
        for E in (0, 64, H):
            for B, T in ((16, 32), (32, 64), (64, 64)):
                torch_train(f"sweep H{H} E{E} B{B} T{T}", "lstm", H, 2, E, B, T, 2e-3)
for r in results:
    print(json.dumps(r))
