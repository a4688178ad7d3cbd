"""The over-the-year chart as inline SVG, drawn on the server: no script, nothing to download.

Each share has its own colour, marker shape and dash pattern, so the lines are told apart
without colour; the same figures are in a table beside it."""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from markupsafe import Markup, escape

from etalase_reporting.dashboard.format import SHARE_LABELS, percent, target
from etalase_reporting.dashboard.views import Point

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48


@dataclass(frozen=True)
class Series:
    share: str
    colour: str
    marker: str
    dash: str


SERIES = (
    Series("umkk_of_pagu", "#1d5fb4", "circle", "8 4"),
    Series("ecatalog_of_pagu", "#a34700", "square", "2 4"),
    Series("pdn_of_spend", "#1e6b2a", "triangle", "12 3 3 3"),
)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    return (
        f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"'
        f' fill="{colour}"/>'
    )


def _share(point: Point, share: str) -> float | None:
    if point.figures is None:
        return None
    value: float | None = getattr(point.figures.shares, share)
    return value


def svg(points: Sequence[Point], title: str) -> Markup:
    values = [v for p in points for s in SERIES if (v := _share(p, s.share)) is not None]
    targets: dict[str, float] = {}
    for point in points:
        for share, found in (point.figures.targets if point.figures else {}).items():
            targets[share.value] = found.target
    top = max(100.0, *values, *targets.values()) if values or targets else 100.0
    top = ceil(top / 10) * 10
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    out = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" class="chart"'
        f' aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>'
    ]
    for tick in range(0, top + 1, 20):
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"'
            ' stroke="#d0d4da"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    for i, point in enumerate(points):
        out.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle"'
            f' font-size="11">{escape(point.label.rsplit(" ", 1)[0])}</text>'
        )
    for series in SERIES:
        if series.share in targets:
            ty = y(targets[series.share])
            out.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"'
                f' stroke="{series.colour}" stroke-width="1.5" stroke-dasharray="{series.dash}"'
                f' opacity="0.8"><title>Target {escape(SHARE_LABELS[series.share])}'
                f" {escape(target(targets[series.share]))}</title></line>"
            )
        run: list[str] = []
        for i, point in enumerate(points):
            value = _share(point, series.share)
            if value is None:
                out.extend(_polyline(run, series))
                run = []
                continue
            run.append(f"{x(i):.1f},{y(value):.1f}")
            out.append(_marker(series.marker, x(i), y(value), series.colour))
        out.extend(_polyline(run, series))
    out.append("</svg>")
    return Markup("".join(out))


def _polyline(run: list[str], series: Series) -> list[str]:
    if len(run) < 2:
        return []
    return [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{series.colour}"'
        ' stroke-width="2.5"/>'
    ]


def legend() -> list[tuple[Series, str]]:
    return [(series, SHARE_LABELS[series.share]) for series in SERIES]


__all__ = ["SERIES", "legend", "percent", "svg"]
