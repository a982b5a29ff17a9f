#!/usr/bin/python3
"""The benchmark workloads of tests/bench/ in PyTorch, for side-by-side ratios.

Usage: torch_workloads.py WORKLOAD THREADS
Prints one line: name threads steps_per_s samples_per_s peak_rss_mib params
Each workload is a full training step (forward, backward, SGD lr 0.01),
float32, on random data made once before timing; 20 warm-up steps, then at
least 200 steps or 3 s, median of 3 repeats -- the same protocol as
bench_models.c.
"""
import resource
import sys
import time

import torch
import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                               nn.Linear(128, 10))

    def forward(self, x):
        return self.f(x)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Flatten(), nn.Linear(784, 10))

    def forward(self, x):
        return self.f(x)


class Seq(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(16, 128, batch_first=True)
        self.head = nn.Linear(128, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def workload(name):
    if name == "mlp":
        return Mlp(), torch.randn(64, 784), torch.randint(0, 10, (64,)), nn.CrossEntropyLoss(), 64
    if name == "cnn":
        return Cnn(), torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,)), nn.CrossEntropyLoss(), 32
    cells = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
    return Seq(cells[name]), torch.randn(32, 32, 16), torch.randn(32, 1), nn.MSELoss(), 32


def main():
    name, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, x, y, loss_fn, batch = workload(name)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    rates = []
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while n < 200 or time.perf_counter() - t0 < 3.0:
            step()
            n += 1
        rates.append(n / (time.perf_counter() - t0))
    rate = sorted(rates)[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name} {threads} {rate:.1f} {rate * batch:.0f} {rss:.1f} {params}")


if __name__ == "__main__":
    main()
