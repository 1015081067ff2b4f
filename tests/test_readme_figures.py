"""The README's figures match the raw outputs committed under benchmarks/results/: every quoted
result line (`ratio: 1.56`, `roc_auc: ...`) appears in a results file, and the demo table is the
table `make demo` printed."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
RESULTS = {p.name: p.read_text() for p in (ROOT / "benchmarks" / "results").glob("*.txt")}
SETTINGS_EXAMPLES = {"learning_rate: 5e-5"}  # a YAML example in the text, not a result


def test_every_quoted_result_line_is_in_a_results_file():
    quoted = set(re.findall(r"`([a-z_]+: [0-9][^`]*)`", README)) - SETTINGS_EXAMPLES
    assert len(quoted) >= 6
    missing = [q for q in quoted if not any(q in text for text in RESULTS.values())]
    assert not missing, missing


def test_every_results_file_starts_with_the_command_that_made_it():
    assert all(text.startswith("$ ") for text in RESULTS.values()), [n for n, t in RESULTS.items() if not t.startswith("$ ")]


def test_the_demo_table_is_what_make_demo_printed():
    rows = re.findall(r"^\| (\d)[^|]*\| ([0-9.]+) \| ([0-9.]+)% \| (\d+)% \|\s*([0-9.]*)\s*\|\s*([0-9 /]*?)\s*\|$",
                      README, re.MULTILINE)
    assert [r[0] for r in rows] == [str(c) for c in range(7)]
    printed = {}  # `vlm report`'s table: cycle, accuracy, refuted, reasoning, [reward, kept/sampled, lr,] seconds
    for line in RESULTS["demo.txt"].splitlines():
        cells = line.split()
        if len(cells) in (5, 8) and cells[0].isdigit() and cells[2].endswith("%"):
            printed[cells[0]] = cells
    for cycle, accuracy, refuted, reasoning, reward, kept in rows:
        p = printed[cycle]
        assert (accuracy, refuted + "%", float(reasoning)) == (p[1], p[2], float(p[3].rstrip("%"))), cycle
        assert (reward, kept.replace(" ", "")) == ((p[4], p[5]) if len(p) == 8 else ("", "")), cycle
    seconds = re.search(r"measured on this 2-core machine: (\d+) s", README).group(1)
    assert f"demo finished in {seconds} s" in RESULTS["demo.txt"]
