"""A/B tests of a widget: start one with 2-4 variants (the widget as it is first), and end
it by keeping the widget or by making a variant the widget. The history stays.

A browser gets its variant from two digits of its first visit's time in milliseconds (the
loader keeps that time in its one localStorage entry): the same variant on every page and
visit, with no id, cookie or server-side state. The owner's variants must keep the
product's rules as the widget's own form does: readable colours and a kind, visible
"No thanks".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import format_number, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from widget.models import VARIANT_FIELDS, Widget, WidgetTest, WidgetVariant, utcnow
from widget.sites import colors, honesty

MIN_VARIANTS, MAX_VARIANTS = 2, 4  # the widget as it is counts as one
# The pairs of digits (powers of ten counted from the end) that pick variants: hundreds
# of milliseconds and seconds, or tens and hundreds of seconds. Not the last two, which
# browsers that blur the clock for privacy round away; not minutes or hours, which would
# follow the time of day. Two tests side by side use different pairs, so that who sees
# which variant of one says nothing of the other.
DIGITS = (2, 4)
MIN_SAMPLE, MAX_SAMPLE = 100, 10_000_000
POPUP_LAYOUTS = ("modal", "slide_in", "bar_top", "bar_bottom")
TRIGGERS = ("exit_intent", "time", "scroll", "idle")
GIFT_MODES = ("first", "gated")
NAME_MAX = 100


class TestRefused(ValueError):
    """A test that cannot start: `problems` says why, in words an owner can act on (in the
    dashboard's language during a dashboard request, English elsewhere)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Proposed:
    """A variant as the owner proposes it: a name and what it changes of the widget."""
    name: str
    changes: dict


def pick(position: int, count: int, digit: int) -> str:
    """The pattern of first-visit times (as decimal text) that get variant `position` of
    `count`: two digits read as 00-99, ending `digit` places from the end, split into
    `count` equal runs (34/33/33 for three)."""
    low, high = 100 * position // count, 100 * (position + 1) // count
    parts, full = [], []  # full: the tens whose every number is in the run
    for tens in range(low // 10, (high - 1) // 10 + 1):
        first, last = max(low, tens * 10) - tens * 10, min(high, tens * 10 + 10) - tens * 10 - 1
        if (first, last) == (0, 9):
            full.append(tens)
        else:
            parts.append(f"{tens}" + (str(first) if first == last else f"[{first}-{last}]"))
    if full:
        parts.append((str(full[0]) if len(full) == 1 else f"[{full[0]}-{full[-1]}]") + r"\d")
    return f"(?:{'|'.join(parts)})\\d{{{digit}}}$"


def running(session: Session, site_id: str) -> dict[str, WidgetTest]:
    """The site's running tests by widget, with their variants."""
    return {t.widget_id: t for t in session.scalars(
        select(WidgetTest).where(WidgetTest.site_id == site_id, WidgetTest.ended_at.is_(None))
        .options(selectinload(WidgetTest.variants)))}


def history(session: Session, widget_id: str) -> list[WidgetTest]:
    """A widget's tests, the newest first (a running one, then the ended)."""
    return list(session.scalars(
        select(WidgetTest).where(WidgetTest.widget_id == widget_id)
        .options(selectinload(WidgetTest.variants))
        .order_by(WidgetTest.started_at.desc(), WidgetTest.id.desc())))


def problems(widget: Widget, changes: dict) -> list[str]:
    """What is wrong with one variant's changes of `widget`; [] when it may run."""
    found = [gettext("A variant cannot change “%(field)s”.", field=k)
             for k in changes if k not in VARIANT_FIELDS]
    value = {name: changes.get(name, getattr(widget, name)) for name in VARIANT_FIELDS}
    if "layout" in changes and (widget.layout == "inline") != (value["layout"] == "inline"):
        found.append(gettext("An inline widget's variants stay inline, and a pop-up's stay "
                             "pop-ups."))
    elif value["layout"] not in POPUP_LAYOUTS + ("inline",):
        found.append(gettext("Choose one of the layouts."))
    triggers = value["triggers"]
    if not isinstance(triggers, list) or any(
            not isinstance(t, list) or len(t) != 2 or t[0] not in TRIGGERS for t in triggers):
        found.append(gettext("Triggers are exit intent, seconds on the page, %% scrolled or idle "
                             "seconds."))
    if value["trigger_match"] not in ("any", "all"):
        found.append(gettext("Show it when any or all of the triggers happen."))
    if "gift_mode" in changes and (widget.kind != "gift" or value["gift_mode"] not in GIFT_MODES):
        found.append(gettext("Only a gift widget can try another way of giving its gift."))
    if any(k in changes for k in ("color_bg", "color_fg", "color_accent")):
        hexes = [value[k] or colors.DEFAULT[k[6:]]  # color_bg: DEFAULT["bg"]
                 for k in ("color_bg", "color_fg", "color_accent")]
        if not all(colors.HEX.fullmatch(c) for c in hexes):
            found.append(gettext("Colours are like #1f5fbf."))
        else:
            found += colors.problems(hexes[0], hexes[1])
    found += honesty.no_thanks_problems(value["no_thanks_label"])
    if not any(changes.get(k) != getattr(widget, k) for k in changes):
        found.append(gettext("This variant changes nothing: it would be the widget itself."))
    return found


def start(session: Session, widget: Widget, proposed: list[Proposed],
          min_shown: int) -> WidgetTest:
    """Start a test of `widget`: the widget as it is ("Original") against `proposed`, each
    to be shown to at least `min_shown` before a winner is declared. Added to `session`
    (the caller commits). Raises TestRefused with every problem found."""
    found = []
    if session.scalar(select(WidgetTest.id).where(WidgetTest.widget_id == widget.id,
                                                  WidgetTest.ended_at.is_(None))):
        found.append(gettext("This widget's test is still running: end it first."))
    if not MIN_VARIANTS <= len(proposed) + 1 <= MAX_VARIANTS:
        found.append(gettext("A test has %(min)d to %(max)d variants beside the original.",
                             min=MIN_VARIANTS - 1, max=MAX_VARIANTS - 1))
    if not MIN_SAMPLE <= min_shown <= MAX_SAMPLE:
        found.append(gettext("The sample is %(min)s to %(max)s views a variant.",
                             min=format_number(MIN_SAMPLE), max=format_number(MAX_SAMPLE)))
    names = [p.name.strip() for p in proposed]
    if any(not n or len(n) > NAME_MAX for n in names) or len(set(names)) < len(names) \
            or "Original" in names:
        found.append(gettext("Give each variant its own short name (not “Original”)."))
    for p in proposed:
        found += [f"{p.name}: {problem}" for problem in problems(widget, p.changes)]
    if found:
        raise TestRefused(found)
    used = Counter(session.scalars(select(WidgetTest.digit).where(
        WidgetTest.site_id == widget.site_id, WidgetTest.ended_at.is_(None))))
    test = WidgetTest(site_id=widget.site_id, widget_id=widget.id, min_shown=min_shown,
                      digit=min(DIGITS, key=lambda d: (used[d], d)))
    test.variants = [WidgetVariant(position=0, name="Original", changes={})] + [
        WidgetVariant(position=i, name=n, changes=dict(p.changes))
        for i, (n, p) in enumerate(zip(names, proposed), start=1)]
    session.add(test)
    return test


def end(widget: Widget, test: WidgetTest, winner: WidgetVariant | None) -> None:
    """End a running test; with a `winner`, its changes become the widget's own. The
    test, its variants and their counters stay as the widget's history."""
    test.ended_at = utcnow()
    test.winner_id = winner.id if winner else None
    for name, value in (winner.changes if winner else {}).items():
        setattr(widget, name, value)
