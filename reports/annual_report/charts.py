"""The report's charts: matplotlib drawn to SVG, embedded in the PDF as vector graphics.

One palette and one type scale for every chart (and the same sizes as the CSS), so the figures
read as part of the page. Text is drawn as paths: the PDF looks the same on every machine, and
the text layer of the PDF holds only the tables' numbers.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

#: Colour-blind-safe (Okabe–Ito), in the order series are drawn.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STAGE_COLOURS = {"In situ": "#56B4E9", "Localized": "#009E73", "Regional": "#E69F00", "Distant": "#D55E00",
                 "Not applicable": "#BBBBBB", "Unknown": "#777777"}
INK, GRID = "#222222", "#DDDDDD"
#: Points; the CSS uses the same: 8 small, 9 body, 10 headings of charts.
TYPE = {"small": 8, "body": 9, "title": 10}
WIDTH = 6.5  # inches: the text width of a Letter page with 1-inch margins

STYLE = {
    "font.family": "DejaVu Sans", "font.size": TYPE["body"], "axes.titlesize": TYPE["title"],
    "axes.labelsize": TYPE["body"], "xtick.labelsize": TYPE["small"], "ytick.labelsize": TYPE["small"],
    "legend.fontsize": TYPE["small"], "axes.edgecolor": INK, "axes.labelcolor": INK, "text.color": INK,
    "xtick.color": INK, "ytick.color": INK, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": False, "grid.color": GRID, "svg.fonttype": "path", "svg.hashsalt": "annual-report",
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def _svg(fig: plt.Figure) -> str:
    """The figure as an SVG data URI (deterministic ids, tight box so no label is clipped)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.05, metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def top_sites(labels: Sequence[str], values: Sequence[int]) -> str:
    """Horizontal bars, most frequent first, with the count at the end of each bar."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 0.3 * len(labels) + 0.6))
        positions = range(len(labels))[::-1]
        bars = ax.barh(list(positions), values, color=PALETTE[0], height=0.65)
        ax.set_yticks(list(positions), labels)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=TYPE["small"])
        ax.set_xlabel("new cases")
        ax.set_xlim(0, max(values, default=1) * 1.12 or 1)
        ax.xaxis.grid(True)
        ax.set_axisbelow(True)
        return _svg(fig)


def trend(years: Sequence[int], series: Mapping[str, Sequence[int]]) -> str:
    """New analytic cases per year, one line per site group."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 3.0))
        for name, values in series.items():
            ax.plot(list(years), list(values), marker="o", markersize=3, linewidth=1.5, label=name)
        ax.set_xticks(list(years), [str(y) for y in years])
        ax.set_ylabel("analytic cases")
        ax.set_ylim(bottom=0)
        ax.yaxis.grid(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        return _svg(fig)


def stacked_shares(rows: Sequence[str], categories: Sequence[str], shares: Sequence[Sequence[float]],
                   colours: Mapping[str, str] | None = None, xlabel: str = "share of cases (%)") -> str:
    """One 100% bar per row (site), split by category (stage)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 0.34 * len(rows) + 0.9))
        positions = list(range(len(rows)))[::-1]
        left = [0.0] * len(rows)
        for j, category in enumerate(categories):
            widths = [row[j] for row in shares]
            colour = (colours or {}).get(category, PALETTE[j % len(PALETTE)])
            ax.barh(positions, widths, left=left, color=colour, height=0.65, label=category,
                    edgecolor="white", linewidth=0.5)
            for y, x0, w in zip(positions, left, widths):
                if w >= 8:
                    ax.text(x0 + w / 2, y, f"{w:.0f}", ha="center", va="center", fontsize=TYPE["small"],
                            color="white" if category in ("Distant", "Unknown") else INK)
            left = [a + b for a, b in zip(left, widths)]
        ax.set_yticks(positions, list(rows))
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(categories), frameon=False)
        return _svg(fig)


def age_boxes(labels: Sequence[str], ages: Sequence[Sequence[float]]) -> str:
    """Age at diagnosis per site group: median, quartiles and 5th–95th percentile whiskers (no single
    patients drawn)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 0.3 * len(labels) + 0.7))
        positions = list(range(len(labels)))[::-1]
        ax.boxplot(list(ages), positions=positions, vert=False, whis=(5, 95), showfliers=False, widths=0.6,
                   patch_artist=True, boxprops={"facecolor": "#CFE3F2", "edgecolor": PALETTE[0]},
                   medianprops={"color": PALETTE[5]}, whiskerprops={"color": PALETTE[0]},
                   capprops={"color": PALETTE[0]})
        ax.set_yticks(positions, list(labels))
        ax.set_xlabel("age at diagnosis (years)")
        ax.xaxis.grid(True)
        ax.set_axisbelow(True)
        return _svg(fig)


def survival_grid(panels: Sequence[tuple[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]]]) -> str:
    """Observed (Kaplan–Meier) survival curves by stage, one panel per site group."""
    columns = 2
    rows = max(1, -(-len(panels) // columns))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, columns, figsize=(WIDTH, 2.3 * rows), squeeze=False, sharey=True)
        for ax, (title, curves) in zip(axes.flat, panels):
            for stage, (times, surv) in curves.items():
                ax.step([0, *times], [1.0, *surv], where="post", linewidth=1.4,
                        color=STAGE_COLOURS.get(stage), label=stage)
            ax.set_title(title, loc="left")
            ax.set_xlim(0, 5)
            ax.set_ylim(0, 1.02)
            ax.set_xticks(range(6))
            ax.yaxis.grid(True)
        for ax in axes[-1, :]:
            ax.set_xlabel("years since diagnosis")
        for ax in axes[:, 0]:
            ax.set_ylabel("observed survival")
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        drawn = [stage for stage in STAGE_COLOURS if any(stage in curves for _title, curves in panels)]
        handles = [matplotlib.lines.Line2D([], [], color=STAGE_COLOURS[s], linewidth=1.4) for s in drawn]
        fig.tight_layout(rect=(0, 0, 1, 0.96 if rows > 1 else 0.9))
        fig.legend(handles, drawn, loc="upper center", ncol=len(drawn), frameon=False,
                   bbox_to_anchor=(0.5, 1.0))
        return _svg(fig)
