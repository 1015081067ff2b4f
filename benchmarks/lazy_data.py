"""Peak memory of loading a TextVQA-sized split: samples that hold Arrow row references (decoded
when used) against samples that hold decoded pixels (what the loader kept before).

A TextVQA-schema parquet of 20,000 rows (256x256 JPEG photos of noise and gradients, question,
10 answers, OCR tokens; row groups of 500 rows, as the hub writes image datasets) is generated
once; its first 2,500 / 5,000 / 10,000 / 20,000 rows are loaded with `load_samples("textvqa",
"train", path=...)`, each in a fresh process, which reports its peak resident memory (VmHWM;
ru_maxrss would carry the parent's peak across exec) and, after the load, its private memory
(RssAnon) and its resident pages of mapped files (RssFile: the Arrow table `datasets` memory-maps,
which the OS reclaims under pressure). The baseline process then decodes every sample's image and
keeps it. Prints a line per size and, last, `ratio: X.XX` (private memory holding decoded pixels
over holding references, at 20,000 rows).

    python benchmarks/lazy_data.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

MEASURE = """
import json, sys
from halo_forge.vlm.data.registry import load_samples
samples = load_samples("textvqa", "train", path=sys.argv[1])
kept = [s.load_image() for s in samples] if sys.argv[2] == "decoded" else None
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
mb = lambda key: int(status[key].split()[0]) / 1024
print(json.dumps({"rows": len(samples), "peak_mb": mb("VmHWM"), "anon_mb": mb("RssAnon"), "file_mb": mb("RssFile")}))
"""


def photo(rng: np.random.Generator) -> bytes:
    gradient = np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None].repeat(256, 0).repeat(3, 2)
    noise = rng.integers(0, 64, (256, 256, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gradient // 2 + noise).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def write_split(folder: Path, rows: int) -> pa.Table:
    rng = np.random.default_rng(0)
    table = pa.table({
        "image": [{"bytes": photo(rng), "path": None} for _ in range(rows)],
        "question": [f"what is written on sign {i}?" for i in range(rows)],
        "question_id": list(range(rows)),
        "answers": [["stop"] * 10 for _ in range(rows)],
        "ocr_tokens": [["stop", str(i)] for i in range(rows)],
    })
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    sizes = [args.rows // 8, args.rows // 4, args.rows // 2, args.rows]
    with tempfile.TemporaryDirectory() as workdir:
        table = write_split(Path(workdir), args.rows)
        env = {**os.environ, "HF_DATASETS_CACHE": f"{workdir}/cache", "HF_HUB_OFFLINE": "1"}
        results = {}
        for rows in sizes:
            folder = Path(workdir) / f"textvqa-{rows}" / "data"
            folder.mkdir(parents=True)
            # row groups of 500 rows, as the hub writes image datasets (the first load converts group by group)
            pq.write_table(table.slice(0, rows), folder / "train-00000-of-00001.parquet", row_group_size=500)
            for mode in ("references", "decoded"):
                out = subprocess.run([sys.executable, "-c", MEASURE, str(folder.parent), mode], env=env, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
                results[rows, mode] = json.loads(out)
            size_mb = (folder / "train-00000-of-00001.parquet").stat().st_size / 2**20
            ref, dec = results[rows, "references"], results[rows, "decoded"]
            print(f"{rows:6d} rows ({size_mb:4.0f} MB parquet): holding references peak RSS {ref['peak_mb']:5.0f} MB "
                  f"(after the load: {ref['anon_mb']:5.0f} MB private, {ref['file_mb']:4.0f} MB mapped files); "
                  f"holding decoded pixels peak {dec['peak_mb']:5.0f} MB ({dec['anon_mb']:5.0f} MB private)")
    print(f"ratio: {results[args.rows, 'decoded']['anon_mb'] / results[args.rows, 'references']['anon_mb']:.2f}")


if __name__ == "__main__":
    main()
