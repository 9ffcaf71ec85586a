"""``make bench``: run every benchmark at a size that takes a few minutes, then write
docs/benchmarks.md from the JSON results (each figure with machine, date and target ratio)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"

_CPUS = max(2, os.cpu_count() or 2)

# (result name, module, extra arguments at `make bench` size)
SUITE: list[tuple[str, str, list[str]]] = [
    ("outbox", "outbox", ["--messages", "20000"]),
    ("registration", "registration", ["--claims", "100000", "--steady-seconds", "10"]),
    ("payments", "payments", ["--entries", "100000", "--steady-seconds", "10"]),
    ("payments-memory", "payments", ["--memory-only", "--entries", "1000000"]),
    ("payments-scaleout", "payments", ["--scale-out", f"1,{_CPUS}", "--entries", "50000"]),
    ("dunning", "dunning", ["--claims", "200000"]),
    ("collection", "collection", ["--claims", "200000"]),
    ("demo", "demo", []),
    ("edge", "edge", []),
]

# metric -> (target, "min" if higher is better else "max", what the target means)
TARGETS: dict[str, dict[str, tuple[float, str, str]]] = {
    "outbox": {"ratio": (0.25, "min", "outbox path >= 1/4 of bare inserts")},
    "registration": {
        "claims_per_s": (3000, "min", ">= 3,000 claims/s in bulk (SQLite)"),
        "leg1_p99_ms": (250, "max", "leg-1 p99 < 250 ms at 100 claims/s"),
    },
    "payments": {
        "entries_per_s": (5000, "min", ">= 5,000 entries/s to the fee updated in the library"),
        "legs34_p99_ms": (500, "max", "legs 3+4 p99 < 500 ms at 50 payments/s"),
    },
    "payments-scaleout": {
        "entries_per_s_best": (
            5000,
            "min",
            ">= 5,000 entries/s with worker processes (PostgreSQL)",
        ),
    },
    "payments-memory": {
        "peak_rss_mb": (300, "max", "import peak memory < 300 MB for 1,000,000 entries"),
    },
    "dunning": {"claims_per_s": (20000, "min", ">= 20,000 claims/s in one dunning run (SQLite)")},
    "collection": {
        "claims_per_s": (10000, "min", ">= 10,000 claims/s evaluated in one hand-over run (SQLite)")
    },
    "demo": {"wall_s": (120, "max", "the default demo in under 2 minutes")},
    "edge": {
        "other_p99_ms": (200, "max", "another municipality's p99 < 200 ms during a 100 MB upload"),
        "server_peak_rss_mb": (300, "max", "server peak memory < 300 MB during a 100 MB upload"),
    },
}


def run_suite(database: str) -> None:
    for name, module, args in SUITE:
        if name == "payments-scaleout" and database == "sqlite":
            continue  # worker processes scale out on PostgreSQL only
        print(f"== bench.{module} {' '.join(args)}", flush=True)
        subprocess.run(  # noqa: S603 - our own modules
            [sys.executable, "-m", f"bench.{module}", "--database", database, *args],
            check=True,
            cwd=ROOT,
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def render() -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.all`); each benchmark also runs alone as",
        "`python -m bench.NAME --database sqlite|postgresql|both`. Ratios are measured within one",
        "run, because the machines are shared and noisy. Target ratio = figure / target (>= 1 meets",
        "a floor; <= 1 meets a ceiling). Where the issue states a target for SQLite only, the",
        "PostgreSQL ratio is shown for comparison. ![delays](benchmarks-delays.png)",
        "",
    ]
    seen: set[str] = set()
    for name, module, _ in SUITE:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        m = data["machine"]
        lines += [
            f"## {name}",
            "",
            f"Measured {m['date']} on {m['machine']}, {m['cpus']} CPUs, Python {m['python']}.",
            "",
        ]
        doc = (__import__(f"bench.{module}", fromlist=["__doc__"]).__doc__ or "").strip()
        if doc and module not in seen:
            lines += [doc, ""]
        seen.add(module)
        targets = TARGETS.get(name, {})
        lines += ["| database | metric | value | target | target ratio |", "|---|---|---|---|---|"]
        for backend, metrics in data["results"].items():
            for metric, value in metrics.items():
                target = targets.get(metric)
                if target:
                    goal, sense, _ = target
                    ratio = value / goal if sense == "min" else goal / value if value else 0
                    t = f"{'>=' if sense == 'min' else '<='} {_fmt(goal)}"
                    r = f"{ratio:.2f} {'✓' if ratio >= 1 else '✗'}"
                else:
                    t, r = "", ""
                lines.append(f"| {backend} | {metric} | {_fmt(value)} | {t} | {r} |")
        lines.append("")
        for metric, (_goal, _sense, meaning) in targets.items():
            lines.append(f"- target `{metric}`: {meaning}")
        lines.append("")
    return "\n".join(lines)


def chart() -> None:
    """docs/benchmarks-delays.png: p50 and p99 per leg from the demo run (Pillow, no plotting
    library needed)."""
    path = RESULTS / "demo.json"
    if not path.exists():
        return
    from PIL import Image, ImageDraw

    results = json.loads(path.read_text())["results"]
    backend = next(iter(results))
    delays = {
        k[: -len("_p99_ms")]: (results[backend][k.replace("p99", "p50")], v)
        for k, v in results[backend].items()
        if k.endswith("_p99_ms")
    }
    width, height, left, bottom = 760, 360, 170, 40
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    d.text(
        (10, 8), f"demo delays on the wall clock ({backend}), ms: p50 dark, p99 light", fill="black"
    )
    top = max((p99 for _, p99 in delays.values()), default=1) or 1
    row = (height - bottom - 30) // max(1, len(delays))
    for i, (leg, (p50, p99)) in enumerate(delays.items()):
        y = 30 + i * row
        scale = (width - left - 60) / top
        d.text((10, y + 4), leg, fill="black")
        d.rectangle([left, y, left + p99 * scale, y + row // 2 - 2], fill=(160, 190, 230))
        d.rectangle([left, y, left + p50 * scale, y + row // 2 - 2], fill=(30, 70, 150))
        d.text((left + p99 * scale + 6, y + 2), f"{p50:.1f} / {p99:.1f}", fill="black")
    img.save(ROOT / "docs" / "benchmarks-delays.png")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.all")
    p.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--render-only", action="store_true", help="only rewrite docs/benchmarks.md")
    args = p.parse_args()
    if not args.render_only:
        run_suite(args.database)
    DOC.write_text(render())
    chart()
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
