"""The impact chart: success rate and mean score over time as inline SVG, drawn on the
server (no script, nothing fetched), with every activation, rollback, label move and alert
marked on the time axis. Each point and mark carries data- attributes (its time and
value), which the browser test reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape

from promptdeck.domain.impact import ImpactReport, Mark, SeriesPoint

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 28, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
SUCCESS, SCORE = "#1f7a4d", "#3559c7"
MARK_STYLE = {  # kind: (class, colour, short text)
    "version.activated": ("activated", "#6b4fbb", "activated"),
    "version.rolled_back": ("rollback", "#c2410c", "rollback"),
    "label.moved": ("label", "#0e7490", "moved"),
    "label.removed": ("label", "#64748b", "removed"),
    "impact.alert": ("alert", "#b91c1c", "alert"),
    # A rollout's steps (docs/rollouts.md): the share changed, the candidate did not.
    "rollout.started": ("rollout", "#7c3aed", "rollout"),
    "rollout.advanced": ("rollout", "#7c3aed", "rollout"),
    "rollout.paused": ("rollout", "#a78bfa", "rollout"),
    "rollout.resumed": ("rollout", "#7c3aed", "rollout"),
    "rollout.completed": ("rollout", "#0e7490", "rollout"),
    "rollout.rolled_back": ("alert", "#b91c1c", "rolled back"),
    "rollout.aborted": ("rollout", "#64748b", "aborted"),
}


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hm(at: datetime) -> str:
    return at.strftime("%H:%M")


def mark_text(mark: Mark, names: dict[int, int]) -> str:
    """ "rollback to #1", "production → #3", "alert on active (#2)"."""
    number = names.get(mark.version_id or 0)
    target = f"#{number}" if number is not None else f"id {mark.version_id}"
    if mark.kind == "version.rolled_back":
        return f"rollback to {target}"
    if mark.kind == "version.activated":
        return f"{target} activated"
    if mark.kind == "impact.alert":
        rate = mark.detail.get("success_rate")
        shown = f" {100 * rate:.0f}%" if isinstance(rate, int | float) else ""
        return f"alert: {mark.label}{shown} on {target}"
    if mark.kind == "label.removed":
        return f"{mark.label} removed"
    if mark.kind.startswith("rollout."):
        split = mark.detail.get("rollout") or {}
        candidate = names.get(int(split.get("candidate_id") or 0))
        shown = f"#{candidate}" if candidate is not None else "the candidate"
        done = mark.kind.removeprefix("rollout.").replace("_", " ")
        if mark.kind in ("rollout.started", "rollout.advanced", "rollout.resumed"):
            return f"{mark.label}: {shown} at {split.get('percent', '?')}%"
        return f"{mark.label}: {shown} {done}"
    return f"{mark.label} → {target}"


def impact_chart(report: ImpactReport, names: dict[int, int]) -> Markup:
    """The SVG; ``names``: version id -> number, for the marks' text."""
    points = report.series
    if not points:
        return Markup('<p class="muted" id="no-outcomes">No outcomes reported yet.</p>')
    step = timedelta(minutes=report.series_minutes)
    start, end = points[0].start, points[-1].start + step
    pad = max((end - start) / 20, timedelta(minutes=1))
    marks = [m for m in report.marks if start - pad <= m.at <= end + pad]
    if marks:
        start, end = min(start, marks[0].at), max(end, marks[-1].at)
    span = max((end - start).total_seconds(), 60.0)

    def x(at: datetime) -> float:
        return LEFT + PLOT_W * (at - start).total_seconds() / span

    def y(value: float) -> float:
        return TOP + PLOT_H * (1 - value)

    out = [
        f'<svg class="impact-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="chart-title" data-start="{_iso(start)}" '
        f'data-end="{_iso(end)}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Success rate and mean score over time, with activations, '
        "rollbacks and label moves</title>",
    ]
    for level in (0, 0.25, 0.5, 0.75, 1):
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'stroke="#e2e8f0" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(level) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#64748b">{int(level * 100)}%</text>'
        )
    out.append(
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11" fill="#64748b">{_hm(start)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end" font-size="11" '
        f'fill="#64748b">{_hm(end)} UTC</text>'
    )
    for measure, colour, dash in (("success", SUCCESS, ""), ("score", SCORE, "6 4")):
        out.extend(_line(points, measure, colour, dash, x, y, step))
    for i, mark in enumerate(marks):
        kind, colour, _short = MARK_STYLE.get(mark.kind, ("label", "#64748b", "moved"))
        at = x(mark.at)
        text = mark_text(mark, names)
        row = TOP - 16 + (i % 2) * 10  # alternate rows so neighbouring texts do not overlap
        out.append(
            f'<g class="mark {kind}" data-kind="{escape(mark.kind)}" data-at="{_iso(mark.at)}" '
            f'data-label="{escape(mark.label)}" data-version-id="{mark.version_id or ""}">'
            f"<title>{escape(text)} at {_hm(mark.at)} UTC</title>"
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{TOP - 4}" y2="{TOP + PLOT_H}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="3 2"/>'
            f'<text x="{at + 3:.1f}" y="{row + 8}" font-size="10" fill="{colour}">'
            f"{escape(text)}</text></g>"
        )
    lx = LEFT + PLOT_W // 2 - 110  # centred, clear of the time labels at both ends
    out.append(
        f'<g class="legend" font-size="11"><rect x="{lx}" y="{HEIGHT - 12}" width="12" '
        f'height="3" fill="{SUCCESS}"/><text x="{lx + 16}" y="{HEIGHT - 8}" fill="#334155">'
        f'success rate</text><rect x="{lx + 110}" y="{HEIGHT - 12}" width="12" height="3" '
        f'fill="{SCORE}"/><text x="{lx + 126}" y="{HEIGHT - 8}" fill="#334155">mean score'
        "</text></g></svg>"
    )
    return Markup("".join(out))


def _line(
    points: list[SeriesPoint],
    measure: str,
    colour: str,
    dash: str,
    x: object,
    y: object,
    step: timedelta,
) -> list[str]:
    """One polyline per run of points with data, and a dot per point (with its numbers)."""
    assert callable(x) and callable(y)
    out: list[str] = []
    run: list[str] = []
    dashing = f' stroke-dasharray="{dash}"' if dash else ""

    def close() -> None:
        if len(run) > 1:
            out.append(
                f'<polyline class="line {measure}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dashing} points="{" ".join(run)}"/>'
            )
        run.clear()

    for p in points:
        value = p.success_rate if measure == "success" else p.mean_score
        n = p.success_n if measure == "success" else p.score_n
        if value is None:
            close()
            continue
        px, py = x(p.start + step / 2), y(value)
        run.append(f"{px:.1f},{py:.1f}")
        out.append(
            f'<circle class="pt {measure}" cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}" '
            f'data-at="{_iso(p.start)}" data-value="{value:.4f}" data-n="{n}">'
            f"<title>{_shown(measure, value)} ({n} outcomes) at {_hm(p.start)} UTC</title>"
            "</circle>"
        )
    close()
    return out


def _shown(measure: str, value: float) -> str:
    return f"success {100 * value:.1f}%" if measure == "success" else f"mean score {value:.3f}"


# --- a rollout's comparison (the labels page) ------------------------------------------------

IV_W, IV_H, IV_PAD = 260, 34, 12
VERDICT_COLOUR = {"worse": "#b91c1c", "within": "#1f7a4d", "pending": "#64748b"}


def interval_chart(
    measure: str, verdict: str, margin: float, diff: float | None, low: float | None,
    high: float | None,
) -> Markup:  # fmt: skip
    """The guard's interval for candidate - baseline on a number line: zero, the allowed
    drop (success rate, mean score), the interval coloured by the verdict, the estimate."""
    if diff is None or low is None or high is None:
        return Markup('<span class="muted">not judged yet</span>')
    scale = 100 if measure != "mean_score" else 1  # rates in points
    edge = -margin if measure != "latency_p95" else 0.0
    lo, hi = min(low, edge, 0.0), max(high, 0.0)
    span = (hi - lo) or 1.0
    lo, hi = lo - span * 0.1, hi + span * 0.1

    def x(v: float) -> float:
        return IV_PAD + (v - lo) / (hi - lo) * (IV_W - 2 * IV_PAD)

    colour = VERDICT_COLOUR.get(verdict, "#64748b")
    text = f"{diff * scale:+.2f} in [{low * scale:+.2f}, {high * scale:+.2f}]"
    out = [
        f'<svg class="interval" role="img" width="{IV_W}" height="{IV_H}" '
        f'viewBox="0 0 {IV_W} {IV_H}" data-measure="{escape(measure)}" '
        f'data-verdict="{escape(verdict)}" data-low="{low:.6f}" data-high="{high:.6f}">'
        f"<title>{escape(measure)}: candidate - baseline {escape(text)}</title>"
        f'<line x1="{IV_PAD}" x2="{IV_W - IV_PAD}" y1="18" y2="18" stroke="#cbd5e1"/>'
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="8" y2="28" stroke="#334155"/>'
        f'<text x="{x(0):.1f}" y="7" font-size="9" text-anchor="middle" fill="#334155">0</text>'
    ]
    if edge < 0:
        out.append(
            f'<line class="margin" x1="{x(edge):.1f}" x2="{x(edge):.1f}" y1="8" y2="28" '
            f'stroke="#b91c1c" stroke-dasharray="2 2"/><text x="{x(edge):.1f}" y="34" '
            f'font-size="9" text-anchor="middle" fill="#b91c1c">-{margin * scale:g}</text>'
        )
    out.append(
        f'<line class="ci" x1="{x(low):.1f}" x2="{x(high):.1f}" y1="18" y2="18" '
        f'stroke="{colour}" stroke-width="6" stroke-linecap="round"/>'
        f'<circle cx="{x(diff):.1f}" cy="18" r="3.5" fill="#fff" stroke="{colour}"/></svg>'
    )
    return Markup("".join(out))
