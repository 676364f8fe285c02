#!/usr/bin/env python3
"""PyTorch peer of advx's bench (apps/coordinator/src/bench): the same three measurements on the same net.

Maxout 784 -> 240x5 -> 240x5 -> 10 (softmax), dropout keep .8 on the input and .5 on hidden layers
(one set of inverted-dropout masks per step, shared by the FGSM and both loss terms, as advx's
train() does), classic momentum SGD (v = m v - lr g; w += v), max-norm 1.9365 on each unit's
incoming weights after every step. Timed:
  train      examples/s of a dropout training step, batch 128
  adv_train  examples/s of an adversarial-training step, J~ = .5 J(x) + .5 J(x + .25 sign grad_x J)
  fgsm       examples/s of FGSM (eps .25, true labels, no dropout) on 1,000 images in batches
plus an n x n float32 torch.mm for the SGEMM peak at the same thread count.
Prints one JSON object on stdout. Usage:
  python3 tools/bench/torch_peer.py --threads 1 [--units 240 --batch 128 --steps 20 --warmup 1 --reps 7 ...]
The adversarial step takes grad_x from the clean term's backward pass, as advx's does (two passes, not
three), so the two sides compute the same gradient with the same work.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

INPUT, CLASSES, UNITS, PIECES = 784, 10, 240, 5
KEEP_IN, KEEP_HID, MAX_NORM, INIT = 0.8, 0.5, 1.9365, 0.005


class Maxout(torch.nn.Module):
    def __init__(self, units=UNITS):
        super().__init__()
        self.units = units
        g = torch.Generator().manual_seed(1)
        def dense(fan_in, cols):
            # [in, out] like advx's weights, so the max-norm is over columns (per unit).
            w = torch.nn.Parameter((torch.rand(fan_in, cols, generator=g) * 2 - 1) * INIT)
            b = torch.nn.Parameter(torch.zeros(cols))
            return w, b
        self.w0, self.b0 = dense(INPUT, units * PIECES)
        self.w1, self.b1 = dense(units, units * PIECES)
        self.w2, self.b2 = dense(units, CLASSES)

    def forward(self, x, masks=None):
        h = x
        for i, (w, b) in enumerate(((self.w0, self.b0), (self.w1, self.b1), (self.w2, self.b2))):
            if masks is not None:
                h = h * masks[i]
            z = torch.addmm(b, h, w)
            h = z.view(z.shape[0], -1, PIECES).amax(2) if i < 2 else z
        return h

    def max_norm_(self):
        with torch.no_grad():
            for w in (self.w0, self.w1, self.w2):
                norms = w.norm(dim=0, keepdim=True).clamp_min(1e-7)
                w.mul_(torch.clamp(MAX_NORM / norms, max=1.0))


def masks_for(batch, units):
    return [torch.empty(batch, width).bernoulli_(keep).div_(keep)
            for width, keep in ((INPUT, KEEP_IN), (units, KEEP_HID), (units, KEEP_HID))]


def fgsm(model, x, y, eps, masks=None):
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x, masks), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x + eps * grad.sign()).clamp_(0, 1).detach()


def time_training(args, adversarial):
    model = Maxout(args.units)
    params = list(model.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    lr, momentum = 0.01, 0.5
    n = args.batch * args.steps
    g = torch.Generator().manual_seed(3)
    images = torch.rand(n, INPUT, generator=g)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    rates = []
    for epoch in range(args.warmup + args.reps):
        start = time.perf_counter()
        order = torch.randperm(n)
        xs, ys = images[order], labels[order]
        loss_sum = torch.zeros(())
        for s in range(0, n, args.batch):
            x, y = xs[s:s + args.batch], ys[s:s + args.batch]
            masks = masks_for(x.shape[0], args.units)
            if adversarial:
                # grad_x of the clean term comes with its parameter gradients: one backward for both.
                x_in = x.detach().requires_grad_(True)
                clean = 0.5 * F.cross_entropy(model(x_in, masks), y)
                *g_clean, g_x = torch.autograd.grad(clean, params + [x_in])
                x_adv = (x + 0.25 * g_x.sign()).detach()
                adv = 0.5 * F.cross_entropy(model(x_adv, masks), y)
                g_adv = torch.autograd.grad(adv, params)
                grads = [a + b for a, b in zip(g_clean, g_adv)]
                loss = clean + adv
            else:
                loss = F.cross_entropy(model(x, masks), y)
                grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, v, gr in zip(params, velocity, grads):
                    v.mul_(momentum).sub_(gr, alpha=lr)
                    p.add_(v)
            model.max_norm_()
            loss_sum += loss.detach()
        float(loss_sum)
        if epoch >= args.warmup:
            rates.append(n / (time.perf_counter() - start))
    return rates


def time_fgsm(args):
    model = Maxout(args.units)
    for p in model.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(4)
    images = torch.rand(args.fgsm_count, INPUT, generator=g)
    labels = torch.randint(0, CLASSES, (args.fgsm_count,), generator=g)
    rates = []
    for i in range(args.warmup + args.reps):
        start = time.perf_counter()
        for s in range(0, args.fgsm_count, args.fgsm_batch):
            float(fgsm(model, images[s:s + args.fgsm_batch], labels[s:s + args.fgsm_batch], 0.25).sum())
        if i >= args.warmup:
            rates.append(args.fgsm_count / (time.perf_counter() - start))
    return rates


def time_sgemm(size, reps):
    a, b = torch.rand(size, size) * 2 - 1, torch.rand(size, size) * 2 - 1
    rates = []
    for i in range(reps + 1):
        start = time.perf_counter()
        torch.mm(a, b)
        if i > 0:
            rates.append(2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    return {"size": size, "best_gflops": max(rates), "median_gflops": statistics.median(rates)}


def summary(rates):
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates), "samples": rates}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--units", type=int, default=UNITS)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--fgsm-count", type=int, default=1000)
    p.add_argument("--fgsm-batch", type=int, default=500)
    p.add_argument("--sgemm-size", type=int, default=4096)
    p.add_argument("--sgemm-reps", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(2)
    started = time.perf_counter()
    train = summary(time_training(args, adversarial=False))
    adv = summary(time_training(args, adversarial=True))
    fg = summary(time_fgsm(args))
    sgemm = time_sgemm(args.sgemm_size, args.sgemm_reps) if args.sgemm_size > 0 else None
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "units": args.units,
        "batch": args.batch,
        "train_ex_s": train["median"],
        "adv_train_ex_s": adv["median"],
        "fgsm_ex_s": fg["median"],
        "sgemm": sgemm,
        "timings": {"train": train, "adv_train": adv, "fgsm": fg},
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
