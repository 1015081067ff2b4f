"""Start-up time of the command line: `halo-forge --help` (and an argument error) against
`python -c "import transformers"`, each in a fresh process, best of 5.

Commands import torch and transformers only when they need them, so help and argument errors
answer before a model library loads. Prints each time and, last, `ratio: X.XX` (importing
transformers over `halo-forge --help`).

    python benchmarks/startup.py
"""

from __future__ import annotations

import subprocess
import sys
import time


def best(command: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    cli = [sys.executable, "-m", "halo_forge.cli"]
    help_s = best([*cli, "--help"])
    error_s = best([*cli, "vlm", "train", "--cycles", "three"])
    transformers_s = best([sys.executable, "-c", "import transformers.models.auto.modeling_auto"])
    print(f"halo-forge --help:                     {help_s:.2f} s")
    print(f"halo-forge vlm train --cycles three:   {error_s:.2f} s (argument error)")
    print(f"import transformers (the auto models): {transformers_s:.2f} s")
    print(f"ratio: {transformers_s / help_s:.2f}")


if __name__ == "__main__":
    main()
