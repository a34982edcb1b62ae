"""Held-out metrics: perplexity, and how often the MTP draft agrees with the main model.

Protocol (so the engine can reproduce it): cut the token ids into consecutive,
non-overlapping windows of `seq` tokens (the last one may be shorter, >= 2 tokens); each
window is a fresh session from position 0; score the next-token log-probabilities of
window[1:] given the prefix. Perplexity = exp(total NLL / number of scored tokens).

MTP agreement: in each window, MTP row t is fed the streams at t and the true token t+1;
its argmax (a guess for token t+2) is compared with the main model's argmax at t+1, for
t = 0 .. len-3. That is the greedy acceptance rate of a one-token speculative draft.
"""
import math

import torch
import torch.nn.functional as F


def windows(ids, seq):
    return [ids[i:i + seq] for i in range(0, len(ids), seq) if len(ids[i:i + seq]) >= 2]


@torch.no_grad()
def evaluate(model, ids, seq=512, batch=8):
    model.eval()
    ws = windows(list(map(int, ids)), seq)
    nll = n = agree = n_mtp = mtp_hit = main_hit = 0
    by_len = {}
    for w in ws:
        by_len.setdefault(len(w), []).append(w)
    for L, group in sorted(by_len.items()):
        for i in range(0, len(group), batch):
            x = torch.tensor(group[i:i + batch], dtype=torch.long)
            # the MTP input at t is token t+1; the last row has none (pad, not scored)
            nxt = torch.cat([x[:, 1:], x[:, -1:]], dim=1)
            logits, mtp = model(x, nxt)
            lp = F.log_softmax(logits[:, :-1].float(), dim=-1)
            nll -= lp.gather(-1, x[:, 1:, None]).sum().item()
            n += x.shape[0] * (L - 1)
            main_top = logits.argmax(-1)                              # guess for token t+1
            main_hit += (main_top[:, :-1] == x[:, 1:]).sum().item()
            if mtp is not None and L >= 3:
                mtp_top = mtp.argmax(-1)[:, :L - 2]                   # guess for token t+2
                agree += (mtp_top == main_top[:, 1:L - 1]).sum().item()
                mtp_hit += (mtp_top == x[:, 2:]).sum().item()
                n_mtp += x.shape[0] * (L - 2)
    return {"tokens_scored": n, "nll": nll / n, "ppl": math.exp(nll / n),
            "top1_acc": main_hit / n,
            "mtp_agreement": agree / max(n_mtp, 1), "mtp_top1_acc": mtp_hit / max(n_mtp, 1),
            "mtp_positions": n_mtp, "windows": len(ws), "seq": seq}


@torch.no_grad()
def greedy(model, ids, n_new):
    """Greedy continuation by full recomputation (slow, exact): engine cross-check data."""
    model.eval()
    ids = list(ids)
    for _ in range(n_new):
        logits, _ = model(torch.tensor([ids], dtype=torch.long))
        ids.append(int(logits[0, -1].argmax()))
    return ids
