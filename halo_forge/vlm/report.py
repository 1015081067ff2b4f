"""`vlm report --html`: one self-contained HTML file of a run, readable offline.

Curves per cycle (held-out accuracy against mean reward and success rate, which is where reward
hacking shows: reward rising while accuracy stalls; each stage's mean score; keep rate and the
hallucinated-claim rate; sampling diversity; learning rate), time per phase, the settings, and a
gallery of each cycle's first prompts: image, question, gold answer, every sampled completion with
its reward, stage scores and checks, and whether it was kept, filterable by kept, correct and
stage. Charts are matplotlib SVG written into the page; images are inline JPEG data URIs.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import yaml
from PIL import Image

from .runs import CONFIG_FILE, read_history
from .tracking import COLLAPSE
from .verifiers.result import STAGES

THUMBNAILS_FILE = "thumbnails.json"  # in each cycle_N/: the gallery prompts' images, small


def thumbnail(image: Image.Image, side: int = 112) -> str:
    """A small JPEG of `image` as a data URI."""
    small = image.convert("RGB").copy()
    small.thumbnail((side, side))
    if max(small.size) < side:  # tiny synthetic scenes: enlarge, pixel for pixel
        scale = side // max(small.size)
        small = small.resize((small.width * scale, small.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _figure(title: str, ylabel: str, cycles: list[int]):
    """A small matplotlib figure and axes, labelled for a per-cycle chart."""
    import matplotlib

    matplotlib.use("svg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 2.8), dpi=100)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("cycle", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_xticks(cycles)
    ax.grid(alpha=0.3)
    return fig, ax


def _svg(fig) -> str:
    """The figure as an inline <svg> element (without the XML prologue)."""
    from matplotlib import pyplot as plt

    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()[buffer.getvalue().index("<svg"):]


def _chart(title: str, cycles: list[int], series: dict[str, list], ylabel: str, percent: bool = False,
           line: float | None = None) -> str:
    """One line chart; missing values (cycle 0 has no reward) are skipped."""
    from matplotlib.ticker import PercentFormatter

    fig, ax = _figure(title, ylabel, cycles)
    for name, values in series.items():
        points = [(c, v) for c, v in zip(cycles, values) if isinstance(v, (int, float))]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, label=name)
    if line is not None:
        ax.axhline(line, color="grey", linestyle=":", linewidth=1)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=7)
    return _svg(fig)


def _phases(history: list[dict]) -> str:
    """Seconds per phase per cycle as a stacked bar chart."""
    phases = sorted({k for e in history for k in e if k.endswith("_seconds")})
    cycles = [e["cycle"] for e in history]
    fig, ax = _figure("time per phase", "seconds", cycles)
    bottom = [0.0] * len(history)
    for phase in phases:
        values = [float(e.get(phase) or 0) for e in history]
        ax.bar(cycles, values, bottom=bottom, label=phase.removesuffix("_seconds"))
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.legend(fontsize=7)
    return _svg(fig)


def charts(history: list[dict]) -> list[str]:
    cycles = [e["cycle"] for e in history]

    def values(key):
        return [e.get(key) for e in history]

    keep_rate = [e["num_kept"] / e["num_samples"] if e.get("num_samples") else None for e in history]
    return [
        _chart("held-out accuracy vs reward", cycles, {"held-out accuracy": values("eval_accuracy"),
               "mean reward": values("mean_reward"), "success rate": values("success_rate")}, "score"),
        _chart("stage scores (sampled completions)", cycles,
               {s: [(e.get("stage_scores") or {}).get(s) for e in history] for s in STAGES}, "mean score"),
        _chart("keep rate and false claims", cycles, {"kept / sampled": keep_rate,
               "held-out claims refuted": values("eval_hallucination_rate")}, "share", percent=True),
        _chart("sampling diversity", cycles, {"distinct completions per prompt": values("distinct_per_prompt")},
               "distinct of K", line=COLLAPSE),
        _chart("learning rate", cycles, {"learning rate": values("learning_rate")}, "lr"),
        _phases(history),
    ]


def _card(rows: list[dict], image: str | None, cycle: int) -> str:
    """One gallery card: a prompt and its sampled completions."""
    first = rows[0]
    same: dict[str, list[dict]] = {}  # identical samples are shown once, with their count
    for r in rows:
        same.setdefault(r["completion"], []).append(r)
    completions = []
    for copies in same.values():
        r, times = {**copies[0], "kept": any(c["kept"] for c in copies)}, len(copies)
        stages = " ".join(f"{s[0]} {r['stages'][s]:.2f}" if isinstance(r["stages"].get(s), (int, float))
                          else f"{s[0]} n/a" for s in STAGES)
        checks = r.get("checks") or {}
        detail = "".join(
            f"<li><b>{html.escape(stage)}</b>: " + (html.escape(c) if isinstance(c, str) else "; ".join(
                f"{html.escape(x['name'])} {'n/a' if x['score'] is None else format(x['score'], '.2f')}"
                + (f" ({html.escape(x['evidence'])})" if x["evidence"] else "") for x in c)) + "</li>"
            for stage, c in checks.items())
        low = " ".join(s for s in STAGES if isinstance(r["stages"].get(s), (int, float)) and r["stages"][s] < 0.5)
        completions.append(
            f'<div class="completion" data-kept="{str(r["kept"]).lower()}" data-correct="{str(r["success"]).lower()}" '
            f'data-low="{low}"><div class="meta">{f"{times} × · " if times > 1 else ""}'
            f'reward {r["reward"]:.3f} · {stages} · '
            f'{"correct" if r["success"] else "wrong"}{" · <b>kept</b>" if r["kept"] else ""}</div>'
            f'<div class="text">{html.escape(r["completion"]) or "<i>(empty)</i>"}</div>'
            + (f"<ul>{detail}</ul>" if detail else "") + "</div>")
    picture = f'<img src="{image}" alt="image of {html.escape(first["id"])}">' if image else ""
    return (f'<div class="card" data-cycle="{cycle}">{picture}<div class="body"><div class="q">'
            f'<b>cycle {cycle}</b> · {html.escape(first["question"])}</div><div class="gold">gold: '
            f'{html.escape(" | ".join(first["answers"][:3]))}</div>{"".join(completions)}</div></div>')


def gallery(run: Path, history: list[dict]) -> list[str]:
    cards = []
    for entry in history[1:]:
        directory = run / f"cycle_{entry['cycle']}"
        thumbnails_file, rollouts_file = directory / THUMBNAILS_FILE, directory / "rollouts.jsonl"
        if not thumbnails_file.is_file() or not rollouts_file.is_file():
            continue
        thumbnails = json.loads(thumbnails_file.read_text())
        groups: dict[str, list[dict]] = {}
        with rollouts_file.open() as f:
            for line in f:
                record = json.loads(line)
                if record["id"] in thumbnails:
                    groups.setdefault(record["id"], []).append(record)
        cards += [_card(rows, thumbnails[i], entry["cycle"]) for i, rows in groups.items()]
    return cards


STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
.charts{display:flex;flex-wrap:wrap;gap:8px} .charts svg{background:white;border:1px solid #ddd}
table.config{border-collapse:collapse;font-size:12px} table.config td{border:1px solid #ddd;padding:2px 6px}
.filters{margin:8px 0;font-size:13px} .filters label{margin-right:14px}
.card{display:flex;gap:12px;background:white;border:1px solid #ddd;margin:8px 0;padding:8px}
.card img{width:112px;height:auto;image-rendering:pixelated;align-self:flex-start}
.body{flex:1;font-size:13px} .q{margin-bottom:2px} .gold{color:#555;margin-bottom:6px}
.completion{border-top:1px solid #eee;padding:4px 0} .meta{font-size:11px;color:#666}
.completion[data-kept=true]{background:#eef8ee} .completion ul{margin:2px 0 2px 16px;font-size:11px;color:#555}
.hidden{display:none}
"""

SCRIPT = """
function apply(){
  const kept=document.getElementById('kept').value, correct=document.getElementById('correct').value,
        low=document.getElementById('low').value, cycle=document.getElementById('cycle').value;
  document.querySelectorAll('.card').forEach(card=>{
    let shown=0;
    card.querySelectorAll('.completion').forEach(c=>{
      const ok=(kept==='all'||c.dataset.kept===kept)&&(correct==='all'||c.dataset.correct===correct)
               &&(low==='any'||c.dataset.low.split(' ').includes(low));
      c.classList.toggle('hidden',!ok); shown+=ok;
    });
    card.classList.toggle('hidden',!shown||(cycle!=='all'&&card.dataset.cycle!==cycle));
  });
  document.getElementById('count').textContent=document.querySelectorAll('.card:not(.hidden)').length+' prompts shown';
}
document.querySelectorAll('select').forEach(s=>s.addEventListener('change',apply)); apply();
"""


def write_html(run: Path, output: Path | None = None) -> Path:
    """Writes RUN/report.html (or `output`) and returns its path."""
    history = read_history(run)
    config_file = run / CONFIG_FILE
    settings = (yaml.safe_load(config_file.read_text()) or {}) if config_file.is_file() else {}
    first, last = history[0], history[-1]
    summary = (f"held-out accuracy {first['eval_accuracy']:.3f} → {last['eval_accuracy']:.3f} "
               f"({100 * (last['eval_accuracy'] - first['eval_accuracy']):+.1f} points after {last['cycle']} cycles)")
    if first.get("eval_hallucination_rate") is not None and last.get("eval_hallucination_rate") is not None:
        summary += (f"; claims the image refutes {first['eval_hallucination_rate']:.1%} → "
                    f"{last['eval_hallucination_rate']:.1%}")
    cycles = "".join(f'<option value="{e["cycle"]}">cycle {e["cycle"]}</option>' for e in history[1:])
    cards = gallery(run, history)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>halo-forge run {html.escape(run.name)}</title>
<style>{STYLE}</style></head><body>
<h1>halo-forge run: {html.escape(str(run))}</h1>
<p id="summary">{html.escape(summary)}</p>
<h2>Curves</h2><div class="charts" id="curves">{"".join(charts(history))}</div>
<h2>Rollouts</h2>
<div class="filters">
<label>kept <select id="kept"><option value="all">all</option><option value="true">kept</option>
<option value="false">not kept</option></select></label>
<label>verdict <select id="correct"><option value="all">all</option><option value="true">correct</option>
<option value="false">wrong</option></select></label>
<label>stage below 0.5 <select id="low"><option value="any">any</option>
{"".join(f'<option value="{s}">{s}</option>' for s in STAGES)}</select></label>
<label>cycle <select id="cycle"><option value="all">all</option>{cycles}</select></label>
<span id="count"></span></div>
<div id="gallery">{"".join(cards) or "<p>No gallery: this run's cycles kept no thumbnails.</p>"}</div>
<h2>Settings</h2><table class="config">{"".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in settings.items())}</table>
<script>{SCRIPT}</script></body></html>"""
    output = output or run / "report.html"
    output.write_text(page)
    return output
