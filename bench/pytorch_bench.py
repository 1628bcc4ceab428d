"""The peers of `npm run bench`, measured the same way: PyTorch on CPU and a numpy transcription
of min-char-rnn, on data/tinyshakespeare.txt. Not a test; never run by CI.

Install (Debian):  apt-get install python3-torch libopenblas0-pthread python3-numpy
Run (from the repository root), with 1 torch thread on top of 2 OpenBLAS threads, as the issue
measured (2 torch threads on top of OpenBLAS's own oversubscribe 2 cores and run 3-4x slower):

  OPENBLAS_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
    /usr/bin/python3 bench/pytorch_bench.py [--window 2] [--windows 5] [--configs C1,C2,C3]

Each figure is the median characters/second of several timed windows after a warm-up window.
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
args = ap.parse_args()
torch.set_num_threads(1)
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


def report(name, task, impl, cps):
    results.append({"bench": "peer", "config": name, "task": task, "impl": impl, "charsPerSec": cps})
    print(f"{name} {task:6s} {impl:28s} {cps:12,.0f} chars/s", flush=True)


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

    report(name, "train", f"pytorch {torch.__version__}", measure(step))
    return model


def torch_sample(name, model):
    model.eval()
    st = {"x": torch.zeros(1, 1, dtype=torch.long), "state": None}

    def step():
        with torch.no_grad():
            for _ in range(100):
                logits, st["state"] = model(st["x"], st["state"])
                p = torch.softmax(logits[0, 0], dim=-1)
                st["x"] = torch.multinomial(p, 1).view(1, 1)
        return 100

    report(name, "sample", f"pytorch {torch.__version__}", measure(step))


configs = args.configs.split(",")
if "C1" in configs:
    minchar_numpy()
    torch_train("C1", "rnn", 100, 1, 0, 1, 25, 0.1)
if "C2" in configs:
    torch_sample("C2", torch_train("C2", "lstm", 128, 2, 128, 50, 50, 0.03))
if "C3" in configs:
    torch_sample("C3", torch_train("C3", "lstm", 512, 2, 512, 50, 50, 0.03))
for r in results:
    print(json.dumps(r))
