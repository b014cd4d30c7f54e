"""Draw benchmarks/results/requests_per_second.png from the JSON that run.py writes.

Two panels, one group of bars per route and one bar per server in each group:
requests per second (higher is better) on top, server CPU time per request in
µs (lower is better) below. Both axes are logarithmic, because the servers span
two orders of magnitude (FastAPI to the raw ceiling, and pipelining on top);
each bar carries its value so nothing has to be read off the scale.

    python benchmarks/plot.py                     # results/latest.json -> results/requests_per_second.png
    python benchmarks/plot.py --input other.json --output other.png

run.py calls it at the end of a run (unless --no-plot). Needs matplotlib.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display needed

import matplotlib.pyplot as plt  # (after use(): the backend must be chosen first)
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_INPUT = RESULTS_DIR / "latest.json"
DEFAULT_OUTPUT = RESULTS_DIR / "requests_per_second.png"

# Routes and servers in a fixed, meaningful order; unknown names follow in the order the results list them.
ROUTE_ORDER = ("hello", "items", "post", "pipeline", "body")
SERVER_ORDER = ("raw", "zigmund", "zigmund-sink", "socketify", "granian-rsgi", "granian-asgi", "blacksheep",
                "sanic", "starlette", "litestar", "fastapi")
ROUTE_NOTES = {"pipeline": "pipeline: hello, 16 requests per write", "body": "body: 1 KiB JSON, validated"}
# zigmund stands out; the ceiling is grey; the peers share one colour map.
FIXED_COLOURS = {"raw": "#7f7f7f", "zigmund": "#d62728", "zigmund-sink": "#ff9896", "zigmund-baseline": "#8c2d04",
                 "zigmund-w2": "#fdae6b"}


def ordered(names: list[str], preferred: tuple[str, ...]) -> list[str]:
    known = [n for n in preferred if n in names]
    return known + [n for n in names if n not in known]


def colours(servers: list[str]) -> dict[str, Any]:
    peers = [s for s in servers if s not in FIXED_COLOURS]
    cmap = plt.get_cmap("tab10")
    palette = [cmap(i) for i in (0, 1, 2, 4, 5, 6, 8, 9)]
    out: dict[str, Any] = {s: FIXED_COLOURS[s] for s in servers if s in FIXED_COLOURS}
    for index, server in enumerate(peers):
        out[server] = palette[index % len(palette)]
    return out


def short(value: float) -> str:
    """1234567 -> '1.2M', 134099 -> '134k', 7.4 -> '7.4'."""
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def tick_label(value: float, _position: int) -> str:
    return short(value) if value >= 1e3 else f"{value:g}"


def draw_panel(ax: Axes, rows: list[dict[str, Any]], metric: str, routes: list[str], servers: list[str],
               palette: dict[str, Any], ylabel: str) -> None:
    values: dict[tuple[str, str], float] = {}
    for r in rows:
        value = r.get(metric)
        if isinstance(value, (int, float)) and value > 0 and math.isfinite(value):
            values[(r["server"], r["route"])] = float(value)
    # Each route's group holds only the servers measured on it, centred on the tick.
    groups = {route: [s for s in servers if (s, route) in values] for route in routes}
    width = min(0.3, 0.84 / max(1, max(len(g) for g in groups.values())))
    labelled: set[str] = set()
    for position, route in enumerate(routes):
        group = groups[route]
        for index, server in enumerate(group):
            value = values[(server, route)]
            x = position + width * (index - (len(group) - 1) / 2)
            label = server if server not in labelled else None
            labelled.add(server)
            ax.bar(x, value, width * 0.92, label=label, color=palette[server])
            ax.annotate(short(value), (x, value), xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=6, rotation=90)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_xticks(range(len(routes)), routes)
    ax.set_xlim(-0.5, len(routes) - 0.5)
    ax.grid(axis="y", which="major", alpha=0.3)
    if values:
        # Room below the shortest bar (so it shows) and above the tallest (for its label).
        low, high = min(values.values()) / 2, max(values.values()) * 4
        ax.set_ylim(low, high)
        # Plain numbers (134k, 7.4) instead of 1.3 x 10^5; in-between ticks only when
        # the axis spans about one decade (otherwise they crowd the labels).
        ax.yaxis.set_major_formatter(FuncFormatter(tick_label))
        ax.yaxis.set_minor_formatter(FuncFormatter(tick_label) if high / low < 30 else NullFormatter())


def subtitle(data: dict[str, Any]) -> str:
    config = data.get("config", {})
    machine = data.get("machine", {})
    parts = [str(data.get("date", "")),
             f"{config.get('rounds', '?')} round(s) x {config.get('duration_s', '?')} s, median",
             (f"wrk -t{config.get('wrk_threads', 1)} -c{config.get('connections', '?')} on core {config.get('wrk_cpu', '?')}, "
              f"server on core {config.get('server_cpu', '?')}"),
             f"{machine.get('nproc', '?')} cores, Python {machine.get('python', '?')}"]
    return "  |  ".join(p for p in parts if p)


def plot(data: dict[str, Any], output: Path) -> None:
    rows = [r for r in data.get("results", []) if "server" in r and "route" in r]
    if not rows:
        raise SystemExit("no results to plot")
    routes = ordered(list(dict.fromkeys(r["route"] for r in rows)), ROUTE_ORDER)
    servers = ordered(list(dict.fromkeys(r["server"] for r in rows)), SERVER_ORDER)
    palette = colours(servers)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8.0, 1.0 + 0.35 * len(routes) * len(servers)), 9),
                                      sharex=True)
    draw_panel(top, rows, "rps", routes, servers, palette, "requests/s (higher is better)")
    draw_panel(bottom, rows, "cpu_us_per_req", routes, servers, palette,
               "server CPU µs/request (lower is better)")
    top.set_title("Requests per second by framework and route", fontsize=12)
    notes = [ROUTE_NOTES[r] for r in routes if r in ROUTE_NOTES]
    bottom.set_xlabel("route" + (f" ({'; '.join(notes)})" if notes else ""))
    handles = dict(zip(*reversed(top.get_legend_handles_labels())))
    top.legend([handles[s] for s in servers if s in handles], [s for s in servers if s in handles],
               ncol=min(len(servers), 6), fontsize=8, loc="upper right")
    fig.text(0.5, 0.005, subtitle(data), ha="center", va="bottom", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="run.py's JSON (default results/latest.json)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="PNG to write (default results/requests_per_second.png)")
    args = parser.parse_args(argv)
    plot(json.loads(args.input.read_text()), args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
