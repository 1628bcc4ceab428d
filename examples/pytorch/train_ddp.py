"""Continue training a charrnn model with PyTorch DistributedDataParallel, then bring it back.

    charrnn export checkpoints/best.json -o model.safetensors
    torchrun --standalone --nproc-per-node=2 examples/pytorch/train_ddp.py \
        --init model.safetensors --corpus input.txt --steps 1000 -o trained.safetensors
    charrnn import trained.safetensors -o trained.json
    charrnn sample --checkpoint trained.json

The module is built from the file's metadata (architecture and vocabulary as JSON strings) in
the layout of docs/export-formats.md, and loads the state dict with strict=True. Each rank
trains on its own contiguous slice of the corpus, cut into --batch-size streams whose state is
carried from step to step (truncated BPTT); DDP averages the gradients. gloo on CPU, nccl on
GPUs (one per rank). Rank 0 saves a safetensors file with the same metadata.
"""

import argparse
import json
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel as DDP


class CharRNN(nn.Module):
    """(one-hot | Embedding) -> LSTM / GRU / RNN(tanh) -> dropout -> Linear, as charrnn."""

    def __init__(self, model, vocab_size, hidden, layers, embed, dropout=0.0):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embed) if embed > 0 else None
        cell = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[model]
        extra = {"nonlinearity": "tanh"} if model == "rnn" else {}
        self.rnn = cell(embed or vocab_size, hidden, layers, batch_first=True,
                        dropout=dropout if layers > 1 else 0.0, **extra)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        """ids (B, T) int64 -> logits (B, T, V) and the state after the last step."""
        x = self.embed(ids) if self.embed is not None else F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)
        y, state = self.rnn(x, state)
        return self.head(self.drop(y)), state


def load(path):
    """The module, the vocabulary (code points) and the metadata of an exported file."""
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    if "model" not in meta or "vocab" not in meta:
        raise SystemExit(f"{path} has no charrnn metadata (model, vocab): export it with charrnn export")
    arch, vocab = json.loads(meta["model"]), json.loads(meta["vocab"])
    model = CharRNN(arch["model"], len(vocab), arch["hidden"], arch["layers"], arch["embed"], arch["dropout"])
    model.load_state_dict(load_file(path), strict=True)
    return model, vocab, meta


def encode(path, vocab):
    """The corpus as ids; characters outside the vocabulary are left out, as charrnn eval does."""
    index = {cp: i for i, cp in enumerate(vocab)}
    with open(path, encoding="utf-8") as f:
        return torch.tensor([index[ord(c)] for c in f.read() if ord(c) in index], dtype=torch.long)


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init", required=True, help="safetensors file from charrnn export (or from this script)")
    p.add_argument("--corpus", required=True, help="UTF-8 training text")
    p.add_argument("-o", "--out", required=True, help="safetensors file to write (charrnn import reads it)")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=16, help="streams per rank")
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--print-every", type=int, default=10)
    args = p.parse_args()

    if "RANK" not in os.environ:  # plain `python train_ddp.py`: a world of one
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT="29500")
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{os.environ['LOCAL_RANK']}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)

    model, vocab, meta = load(args.init)
    ddp = DDP(model.to(device), device_ids=[device.index] if cuda else None)
    opt = torch.optim.Adam(ddp.parameters(), lr=args.lr)

    # this rank's contiguous slice, cut into B streams of L characters (+1 for the targets)
    ids = encode(args.corpus, vocab)
    part = ids[rank * len(ids) // world:(rank + 1) * len(ids) // world]
    B, T = args.batch_size, args.seq_length
    L = (len(part) - 1) // B
    if L < T:
        raise SystemExit(f"rank {rank}: {len(part)} characters are too few for {B} streams of {T}")
    x = part[:B * L].view(B, L).to(device)
    y = part[1:B * L + 1].view(B, L).to(device)

    state, pos = None, 0
    for step in range(1, args.steps + 1):
        if pos + T > L:  # the end of the slice: start the streams over
            state, pos = None, 0
        logits, state = ddp(x[:, pos:pos + T], state)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y[:, pos:pos + T].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(ddp.parameters(), 5.0)  # charrnn's default --clip 5
        opt.step()
        state, pos = detach(state), pos + T
        if step % args.print_every == 0 or step == args.steps:
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            if rank == 0:
                print(f"step {step}/{args.steps}  loss {mean.item() / world:.4f} nats/char", flush=True)

    if rank == 0:
        tensors = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
        tmp = f"{args.out}.{os.getpid()}.tmp"
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, args.out)  # atomic: a reader never sees half a file
        print(f"wrote {args.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
