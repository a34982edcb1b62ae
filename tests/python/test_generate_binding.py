"""Session.generate: agreement with the golden logits, seeds, text and stops, breaking out,
Ctrl-C and cancel(), the GIL released while computing, concurrent sessions, and errors."""
import os
import signal
import subprocess
import sys
import threading
import time

import dsv4
import numpy as np
import pytest

from conftest import REPO
from test_tokenizer_binding import TINY_CODE, make_text_model

PROMPT = [5, 17, 230, 99, 3, 42, 7]


@pytest.fixture(scope="module")
def golden_model(tiny_dir):
    with dsv4.Model(tiny_dir) as m:
        yield m


@pytest.fixture(scope="module")
def text_model(tiny_dir, tmp_path_factory):
    with dsv4.Model(make_text_model(tiny_dir, tmp_path_factory.mktemp("gen"))) as m:
        yield m


def greedy_ids(model, prompt, n, **kw):
    s = model.session()
    return list(s.generate(prompt, max_tokens=n, temperature=0, stop_at_eos=False, ids_only=True, **kw))


def test_greedy_first_token_is_the_golden_argmax(golden_model, golden):
    g = golden("tiny-s4")
    for m, row in zip(g["prefill_lens"], g["prefill_logits"]):
        first = greedy_ids(golden_model, g["tokens"][:m], 1)
        assert first == [int(np.argmax(row))], m


def test_seed_fixes_the_output(golden_model):
    def run(seed):
        return list(golden_model.session().generate(PROMPT, max_tokens=20, seed=seed, stop_at_eos=False,
                                                    ids_only=True))
    a = run(3)
    assert len(a) == 20 and run(3) == a and run(4) != a


def test_text_pieces_and_finish(text_model):
    tok = text_model.tokenizer
    s = text_model.session()
    gen = s.generate("def foo(x):", max_tokens=40, temperature=0.9, seed=1, stop_at_eos=False)
    pieces = list(gen)
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces) == gen.text
    assert len(gen.tokens) == 40 and gen.finish_reason == "max_tokens"
    assert gen.text == tok.decode([t for t in gen.tokens if t < tok.vocab_size])
    prompt_len = len(tok.encode("def foo(x):", add_bos=True))
    assert s.position == prompt_len + 39


def test_stop_strings_and_tokens(text_model):
    free = text_model.session().generate("abc", max_tokens=40, temperature=0, stop_at_eos=False)
    text = "".join(free)
    stop = next(c for c in text[len(text) // 2:] if c.isalnum())
    gen = text_model.session().generate("abc", max_tokens=40, temperature=0, stop_at_eos=False, stop=[stop, "zzzz"])
    assert "".join(gen) == text[:text.index(stop)]
    assert gen.finish_reason == "stop_string"

    ids = free.tokens
    gen = text_model.session().generate("abc", max_tokens=40, temperature=0, stop_tokens=[ids[5]],
                                        stop_at_eos=False, ids_only=True)
    assert list(gen) == ids[:ids.index(ids[5]) + 1]
    assert gen.finish_reason == "stop_token"


def test_breaking_out_leaves_the_session_usable(golden_model):
    whole = greedy_ids(golden_model, PROMPT, 8)
    s = golden_model.session()
    gen = s.generate(PROMPT, max_tokens=None, temperature=0, stop_at_eos=False, ids_only=True)
    got = []
    for t in gen:
        got.append(t)
        if len(got) == 3:
            break
    assert s.position == len(PROMPT) + 2
    s.decode(got[-1])  # the last sampled token was not fed
    # Using the session ended the old generation.
    assert list(gen) == [] and gen.finish_reason == "cancelled"
    got += list(s.generate([], max_tokens=5, temperature=0, stop_at_eos=False, ids_only=True))
    assert got == whole


def test_ids_only_needs_no_tokenizer_and_text_does(golden_model):
    s = golden_model.session()
    with pytest.raises(dsv4.InvalidArgumentError, match="ids_only"):
        s.generate(PROMPT)
    with pytest.raises(dsv4.InvalidArgumentError, match="tokenizer"):
        s.generate("text", ids_only=True)
    assert s.position == 0


def test_another_thread_runs_while_a_session_computes(golden_model):
    """With a huge switch interval the interpreter never preempts the main thread, so the
    spinning thread advances only while the main thread has released the GIL. A prefill here
    takes some tens of milliseconds, so on a loaded machine the spinner may get no core in
    one of them: up to five sessions are tried. Without the GIL released none would do."""
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0)  # hands the GIL back at once when the main thread wants it

    old = sys.getswitchinterval()
    spinner = threading.Thread(target=spin, daemon=True)
    sys.setswitchinterval(30)
    spinner.start()
    during_prefill = during_steps = False
    try:
        time.sleep(0.05)
        for _ in range(5):
            s = golden_model.session()
            c0 = count[0]
            gen = s.generate(list(range(1, 300)), max_tokens=20, temperature=0, stop_at_eos=False, ids_only=True)
            c1 = count[0]
            assert len(list(gen)) == 20
            c2 = count[0]
            during_prefill = during_prefill or c1 > c0
            during_steps = during_steps or c2 > c1
            if during_prefill and during_steps:
                break
    finally:
        stop.set()
        sys.setswitchinterval(old)
        spinner.join()
    assert during_prefill
    assert during_steps


def test_two_sessions_generate_concurrently_like_sequentially(golden_model):
    prompts = [PROMPT, [9, 8, 7, 6, 5, 4, 3, 2, 1] * 5]
    sequential = [greedy_ids(golden_model, p, 40) for p in prompts]
    results, errors = [None, None], []
    barrier = threading.Barrier(2)

    def work(i):
        try:
            s = golden_model.session()
            barrier.wait()
            results[i] = list(s.generate(prompts[i], max_tokens=40, temperature=0, stop_at_eos=False,
                                         ids_only=True))
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == sequential


def test_ctrl_c_cancels_generation_cleanly(golden_model):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    s = golden_model.session()
    gen = s.generate(PROMPT, max_tokens=None, temperature=0, stop_at_eos=False, ids_only=True)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        # list() iterates in C: the interrupt can only surface inside the generation's steps.
        with pytest.raises(KeyboardInterrupt):
            list(gen)
    finally:
        timer.cancel()
    assert gen.finish_reason == "cancelled"
    got = gen.tokens
    assert 0 < len(got) < 4000
    assert list(gen) == []
    # The session holds the prompt and every token handed out but the last (plain decoding) or all
    # of them (the last was an accepted draft). The token of a step that the Ctrl-C interrupted
    # right after it returned counts too: it is in gen.tokens.
    assert len(PROMPT) + len(got) - 1 <= s.position <= len(PROMPT) + len(got)
    more = list(s.generate([], max_tokens=3, temperature=0, stop_at_eos=False, ids_only=True))
    assert len(more) == 3


def test_interrupt_right_after_a_step_still_counts_its_token(golden_model):
    # A Ctrl-C surfaces at the first bytecode after the step returns, before Python code could
    # record the step's token; this wrapper raises exactly there, every time.
    class InterruptAfterStep:
        def __init__(self, low, steps):
            self.low, self.steps = low, steps

        def next(self):
            out = self.low.next()
            self.steps -= 1
            if self.steps == 0:
                raise KeyboardInterrupt
            return out

        def __getattr__(self, name):
            return getattr(self.low, name)

    s = golden_model.session()
    gen = s.generate(PROMPT, max_tokens=None, temperature=0, stop_at_eos=False, ids_only=True)
    gen._g = InterruptAfterStep(gen._g, 5)
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for t in gen:
            seen.append(t)
    assert gen.finish_reason == "cancelled"
    assert len(gen.tokens) == 5 and gen.tokens[:4] == seen
    assert len(PROMPT) + 4 <= s.position <= len(PROMPT) + 5


def test_speculation_modes_give_the_same_output(golden_model):
    runs = {}
    for mode in ("auto", "always", "off"):
        for n_draft in (1, 3):
            s = golden_model.session()
            gen = s.generate(PROMPT, max_tokens=30, temperature=0.9, top_k=20, seed=3, stop_at_eos=False,
                             ids_only=True, speculation=mode, n_draft=n_draft)
            runs[mode, n_draft] = (list(gen), gen.stats, s.position)
    want = runs["off", 1][0]
    assert len(want) == 30
    for (mode, n_draft), (ids, stats, position) in runs.items():
        assert ids == want, (mode, n_draft)
        assert stats["n_generated"] == 30
        assert position in (len(PROMPT) + 29, len(PROMPT) + 30)
        if mode == "off":
            assert stats["spec_passes"] == 0 and stats["n_drafted"] == 0 and not stats["speculative"]
        else:
            assert stats["speculative"]
            assert stats["spec_passes"] >= 1
            assert stats["n_drafted"] == n_draft * stats["spec_passes"]
        if mode == "always":
            assert stats["spec_passes"] == stats["main_passes"]
    s = golden_model.session()
    with pytest.raises(dsv4.InvalidArgumentError, match="speculation"):
        s.generate(PROMPT, speculation="sometimes", ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="n_draft"):
        s.generate(PROMPT, n_draft=9, ids_only=True)
    assert s.position == 0  # a bad argument feeds nothing


def test_cancel_from_another_thread_ends_generation(golden_model):
    s = golden_model.session()
    gen = s.generate(PROMPT, max_tokens=None, temperature=0, stop_at_eos=False, ids_only=True)
    threading.Timer(0.2, s.cancel).start()
    got = list(gen)
    assert gen.finish_reason == "cancelled" and 0 < len(got) < 4000


def test_close_and_context_manager(golden_model):
    s = golden_model.session(ctx=len(PROMPT) + 4)
    with s.generate(PROMPT, max_tokens=None, temperature=0, ids_only=True, stop_at_eos=False) as gen:
        assert len(list(gen)) == 5
    assert gen.finish_reason == "context_full"
    gen = s.generate([], max_tokens=None, ids_only=True)
    gen.close()
    assert gen.finish_reason == "cancelled" and list(gen) == []


def test_errors_map_to_exception_types(golden_model, tiny_dir, tmp_path):
    s = golden_model.session(ctx=16)
    with pytest.raises(dsv4.InvalidArgumentError, match="top_p"):
        s.generate(PROMPT, top_p=2.0, ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="temperature"):
        s.generate(PROMPT, temperature=float("nan"), ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="out of range"):
        s.generate([1, 100000], ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="prefill"):
        s.generate([], ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="max_tokens"):
        s.generate(PROMPT, max_tokens=0, ids_only=True)
    with pytest.raises(dsv4.InvalidArgumentError, match="stop strings need a tokenizer"):
        s.generate(PROMPT, stop=["x"], ids_only=True)
    assert s.position == 0
    with pytest.raises(dsv4.ContextFullError):
        s.generate(list(range(1, 20)), ids_only=True)
    assert s.position == 0

    bad = tmp_path / "bad-tokenizer"
    bad.mkdir()
    for name in ("config.json", "model.safetensors"):
        os.symlink(tiny_dir / name, bad / name)
    (bad / "tokenizer.json").write_text("{")
    with pytest.raises(dsv4.FormatError, match="tokenizer.json"):
        dsv4.Model(bad)
    with pytest.raises(dsv4.OutOfMemoryError, match="memory budget"):
        dsv4.Model(tiny_dir, use_mmap=False, memory_budget=1000)

    # A feed cancelled from another thread raises CancelledError.
    with dsv4.Model(tiny_dir.parent.parent / "tiny-pro-s4" / "model", backend="reference") as slow:
        s2 = slow.session()
        done = threading.Event()

        def keep_cancelling():
            while not done.is_set():
                s2.cancel()
                time.sleep(0.005)

        t = threading.Thread(target=keep_cancelling)
        t.start()
        try:
            with pytest.raises(dsv4.CancelledError):
                s2.generate(list(range(1, 400)), ids_only=True)
        finally:
            done.set()
            t.join()


def test_a_session_refuses_a_second_thread(conformance):
    with dsv4.Model(conformance / "golden" / "tiny-pro-s4" / "model", backend="reference") as m:
        s = m.session()
        started = threading.Event()
        errors = []

        def feed():
            started.set()
            try:
                s.prefill(list(range(1, 400)))
            except dsv4.InvalidArgumentError as e:
                # The main thread's decode got in first: the refusal then lands here.
                errors.append(e)

        t = threading.Thread(target=feed)
        t.start()
        started.wait()
        deadline = time.time() + 10
        while t.is_alive() and time.time() < deadline and not errors:
            try:
                s.decode(1)
            except dsv4.InvalidArgumentError as e:
                errors.append(e)
            time.sleep(0.001)
        t.join()
        assert errors and "another thread" in str(errors[0])


def test_help_documents_generation():
    import pydoc
    doc = pydoc.render_doc(dsv4.Session, renderer=pydoc.plaintext)
    assert "generate" in doc and "ids_only" in doc and "finish_reason" in pydoc.render_doc(dsv4.Generation,
                                                                                           renderer=pydoc.plaintext)
    assert "tokenizer" in pydoc.render_doc(dsv4.Model, renderer=pydoc.plaintext)


def test_default_model_generates_its_own_text():
    with dsv4.Model(TINY_CODE) as m:
        tok = m.tokenizer
        assert tok.vocab_size == m.info.vocab_size
        gen = m.session().generate("def add(a, b):\n", max_tokens=24, temperature=0)
        text = "".join(gen)
        ids = gen.tokens[:-1] if gen.finish_reason == "stop_token" else gen.tokens
        assert text == gen.text == tok.decode(ids)
        assert "".join(m.session().generate("def add(a, b):\n", max_tokens=24, temperature=0)) == text


@pytest.mark.parametrize("mode", ["chat", "thinking"])
def test_chat_example_answers_like_session_generate(mode):
    # Each turn's answer is what a fresh session gives for the whole conversation, though the
    # example feeds only what its session does not hold yet. In thinking mode the second prompt
    # parts from the first answer early (the previous turn is rendered closed: </think>), so
    # the example's session goes back further than its window.
    def fresh_answer(m, messages):
        prompt = dsv4.chat.encode(messages, mode=mode)
        gen = m.session().generate(prompt, parse_special=True, add_bos=False, max_tokens=12, temperature=0)
        text = "".join(gen)
        eos = "<｜end▁of▁sentence｜>" if gen.finish_reason == "stop_token" else ""
        try:
            return text, dsv4.chat.parse(gen.text + eos, mode=mode)
        except dsv4.FormatError:
            return text, {"role": "assistant", "content": gen.text}

    with dsv4.Model(TINY_CODE) as m:
        messages = [{"role": "user", "content": "hello"}]
        first, reply = fresh_answer(m, messages)
        messages += [reply, {"role": "user", "content": "again"}]
        second, _ = fresh_answer(m, messages)
    r = subprocess.run([sys.executable, str(REPO / "examples" / "python" / "chat.py"), "--max-tokens", "12",
                        "--temperature", "0"] + (["--thinking"] if mode == "thinking" else []),
                       input="hello\nagain\n", capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "> " + first + "\n> " + second + "\n> \n"
