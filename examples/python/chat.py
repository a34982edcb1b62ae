#!/usr/bin/env python3
"""Chat with a DeepSeek-V4 model: dsv4.chat.encode renders the conversation, Session.generate
streams the answer, dsv4.chat.parse turns it back into a message, and Session.truncate keeps
the part of the conversation the session has already read.

    PYTHONPATH=build/python python3 examples/python/chat.py [--model DIR] [--thinking]

Ctrl-C stops an answer; Ctrl-C at the prompt or Ctrl-D quits.
"""
import argparse
import pathlib
import sys

import dsv4

DEFAULT_MODEL = pathlib.Path(__file__).resolve().parents[2] / "models" / "dsv4-tiny-code"
EOS = "<｜end▁of▁sentence｜>"  # ends every assistant turn in the chat format


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="checkpoint directory with tokenizer.json")
    ap.add_argument("--thinking", action="store_true", help="let the model reason before it answers")
    ap.add_argument("--system", default="", help="a system message")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--max-tokens", type=int, default=512)
    args = ap.parse_args()

    model = dsv4.Model(args.model)
    if model.tokenizer is None:
        return f"{args.model} has no tokenizer.json"
    session = model.session(ctx=4096)
    mode = "thinking" if args.thinking else "chat"
    messages = [{"role": "system", "content": args.system}] if args.system else []
    fed: list[int] = []  # the token ids the session holds

    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line.strip():
            continue
        messages.append({"role": "user", "content": line})
        # The prompt is the whole conversation; the session already holds most of it (the last
        # prompt and answer), so go back to where the two part and feed only the rest.
        ids = model.tokenizer.encode(dsv4.chat.encode(messages, mode=mode), parse_special=True)
        keep = min(common_prefix(fed, ids), len(ids) - 1)
        session.truncate(keep)
        answer = session.generate(ids[keep:], max_tokens=args.max_tokens,
                                  temperature=args.temperature)
        try:
            for piece in answer:
                print(piece, end="", flush=True)
        except KeyboardInterrupt:
            print(" [stopped]", end="")
        print()
        fed = (ids + answer.tokens)[:session.position]
        completion = answer.text + (EOS if answer.finish_reason == "stop_token" else "")
        try:
            messages.append(dsv4.chat.parse(completion, mode=mode))
        except dsv4.FormatError:  # cut short: keep what was said
            messages.append({"role": "assistant", "content": answer.text})


if __name__ == "__main__":
    sys.exit(main())
