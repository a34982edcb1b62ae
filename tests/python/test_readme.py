"""The README's Python example runs as printed (from the repository root, as a reader would)."""
import os
import re
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def readme_python_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    # The indented block that starts with "import dsv4".
    m = re.search(r"\n((?: {4}import dsv4\n)(?:(?: {4}.*)?\n)+)", text)
    assert m, "no indented 'import dsv4' block in README.md"
    return textwrap.dedent(m.group(1))


def test_readme_python_example_runs(capsys):
    code = readme_python_example()
    assert "session.generate" in code and "estimate_session" in code
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "SessionStats(tokens=" in out
    assert "SessionInfo(n_ctx=32768, position=0" in out
