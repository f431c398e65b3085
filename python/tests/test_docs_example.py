"""docs/PYTHON.md's example, as a reader runs it: every ```python block in order, in one namespace
(as a notebook's cells), in a fresh folder. The first block must print the table the document
shows (the ```text block after it); the plot block draws a PNG where matplotlib is installed
(python3-matplotlib) and says that it cannot otherwise."""

import contextlib
import io
import os
import re

DOC = os.path.join(os.environ["LLMPLAN_SOURCE_DIR"], "docs", "PYTHON.md")


def blocks(text, language):
    return re.findall(r"^```" + language + r"\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_example_runs_and_prints_the_documented_table(tmp_path, monkeypatch):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    cells = blocks(text, "python")
    assert len(cells) == 2
    expected = blocks(text, "text")[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # no display in a test
    namespace = {}
    printed = []
    for cell in cells:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(cell, DOC, "exec"), namespace)
        printed.append(out.getvalue())
    assert printed[0] == expected
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert printed[1].startswith("matplotlib is not installed")
        assert not (tmp_path / "llama-3-8b_zero_sweep.png").exists()
    else:
        assert printed[1] == ""
        png = (tmp_path / "llama-3-8b_zero_sweep.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
