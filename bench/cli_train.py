"""Wall time of the CLI's default training on the 3,312 real posts, as an analyst runs it.

``python -m stigma_core train --data <real corpus> --text-col text --label-col stigma
--out <tmp>/model.skops`` with no ``--models``/``--grid``: whatever the CLI trains by default
at the time of the run (recorded: the families and grid from ``cli.training_plan``). Run in a
fresh process; wall and CPU seconds of it and its children, peak memory of the process tree
(psutil, sampled every 0.2 s) and the load average before and after are recorded: the
machine is shared, so wall time depends on what else runs.

Run: .venv/bin/python bench/cli_train.py  -> bench/results/cli_train.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REAL_CORPUS, REPO, RESULTS, machine, utc_now, write_json


def main() -> None:
    """Time one default ``train`` run and write the JSON."""
    import psutil

    sys.path.insert(0, str(REPO))
    from stigma_core.cli import training_plan

    families, grid = training_plan(None, None)
    with tempfile.TemporaryDirectory(prefix="stigma-cli-") as folder:
        out = Path(folder) / "model.skops"
        command = [sys.executable, "-m", "stigma_core", "train", "--data", str(REAL_CORPUS),
                   "--text-col", "text", "--label-col", "stigma", "--out", str(out)]
        load_before = [round(v, 2) for v in os.getloadavg()]
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        watched = psutil.Process(process.pid)
        peak, cpu = [0.0], {}

        def sample() -> None:
            while process.poll() is None:
                total = 0
                try:
                    for p in [watched, *watched.children(recursive=True)]:
                        try:
                            total += p.memory_info().rss
                            cpu[p.pid] = sum(p.cpu_times()[:2])
                        except psutil.Error:
                            pass
                except psutil.Error:
                    break
                peak[0] = max(peak[0], total / 2**20)
                time.sleep(0.2)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        output, _ = process.communicate()
        seconds = time.perf_counter() - start
        thread.join(timeout=1)
        report = json.loads(out.with_suffix(".metrics.json").read_text()) \
            if out.with_suffix(".metrics.json").is_file() else None
    result = {
        "benchmark": "cli_train", "date": utc_now(), "machine": machine(),
        "command": " ".join(["python -m stigma_core train --data",
                             "../shared/data/mhstigma_interview_train.csv",
                             "--text-col text --label-col stigma --out model.skops"]),
        "default_families": families, "default_grid": grid,
        "returncode": process.returncode,
        "seconds": round(seconds, 1), "cpu_s_sampled": round(sum(cpu.values()), 1),
        "peak_rss_mib": round(peak[0], 1),
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "goal_s": 180,
        "chosen": (report or {}).get("chosen"),
        "output_tail": output[-1500:],
    }
    write_json(result, RESULTS / "cli_train.json")
    print(f"CLI default training ({', '.join(families)}, {grid} grid): {seconds:.0f} s, "
          f"peak {peak[0]:,.0f} MiB, load {load_before} (exit {process.returncode})")


if __name__ == "__main__":
    main()
