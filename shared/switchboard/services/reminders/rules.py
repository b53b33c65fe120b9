"""When a reminder is sent: pure functions of instants, zones and the recipient's rules (no I/O).

Send times are computed on UTC instants (start - lead) and judged in the recipient's local wall time
with zoneinfo, so a lead never stretches or shrinks across a DST change. A time inside quiet hours moves
to the end of the quiet window; a recipient whose number maps to several zones gets a time that is
outside quiet hours in every one of them. Local times that do not exist (spring-forward gaps) resolve
to the instant after the transition; ambiguous ones (fall-back folds) to their first occurrence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Why a reminder is not (or no longer) sent: recorded on the reminder and counted.
NO_PHONE = "no_phone"
SUPPRESSED = "suppressed"
RECIPIENT_DISABLED = "recipient_disabled"
EVENT_CANCELLED = "event_cancelled"
TOO_LATE = "too_late"  # start - lead (or now) is already at or after the start
QUIET_HOURS = "quiet_hours"  # the end of the quiet window is at or after the start
NO_ALLOWED_TIME = "no_allowed_time"  # the number's zones leave no time outside quiet hours
DAILY_LIMIT = "daily_limit"

MAX_MOVES = 8  # several zones can push a time into each other's windows; a few hops settle it


@dataclass(frozen=True)
class QuietWindow:
    """Local wall-clock [start, end); wraps past midnight when start > end; empty when equal."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, wall: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


@dataclass(frozen=True)
class Rules:
    """A recipient's reminder rules (the defaults are issue 11's)."""

    lead: timedelta = timedelta(minutes=15)
    quiet: tuple[QuietWindow, ...] = (QuietWindow(),)
    daily_limit: int = 5
    all_day_at: time = time(9, 0)  # local time an all-day event's reminder goes out, on its day


@dataclass(frozen=True)
class Decision:
    """The send instant (UTC) or the reason there is none."""

    send_at: datetime | None
    reason: str | None = None
    moved_by_quiet_hours: bool = False

    @property
    def scheduled(self) -> bool:
        return self.send_at is not None


@dataclass(frozen=True)
class ComplianceProfile:
    """Stricter send windows per US state, applied only when enabled. Configuration, not legal advice:
    the operator decides which rules apply to their reminders (docs/reminders.md)."""

    windows: dict[str, QuietWindow] = field(default_factory=dict)


# reference/reminders.md section 4: FL FTSA / OK OTSA 8 a.m.-8 p.m.; KY from 10 a.m.; CT from 9 a.m.
US_STATE_WINDOWS = ComplianceProfile(
    {
        "FL": QuietWindow(time(20, 0), time(8, 0)),
        "OK": QuietWindow(time(20, 0), time(8, 0)),
        "KY": QuietWindow(time(21, 0), time(10, 0)),
        "CT": QuietWindow(time(21, 0), time(9, 0)),
    }
)


def with_compliance(rules: Rules, profile: ComplianceProfile | None, state: str | None) -> Rules:
    """The rules narrowed by the profile's window for the recipient's state (unchanged when off)."""
    extra = profile.windows.get(state) if profile and state else None
    return replace(rules, quiet=(*rules.quiet, extra)) if extra else rules


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: date, wall: time, zone_name: str, *, fold: int = 0) -> datetime:
    """The UTC instant of a local wall time: a gap time resolves after the transition (fold=0 reads it
    with the pre-transition offset), a fold time to its first occurrence (fold=1: its second)."""
    return datetime.combine(day, wall, tzinfo=zone(zone_name)).replace(fold=fold).astimezone(UTC)


def in_quiet_hours(instant: datetime, zones: Sequence[str], windows: Sequence[QuietWindow]) -> bool:
    """True when the instant is inside a quiet window in ANY of the zones (outside only if in all)."""
    for name in zones:
        wall = instant.astimezone(zone(name)).time()
        if any(window.contains(wall) for window in windows):
            return True
    return False


def _window_end(instant: datetime, zone_name: str, window: QuietWindow) -> datetime | None:
    """The end of `window` containing `instant` in `zone_name`, or None when it does not contain it."""
    local = instant.astimezone(zone(zone_name))
    if not window.contains(local.time()):
        return None
    # The first end after the instant: today's (either occurrence, in a fold), else tomorrow's
    # (the evening part of a window that wraps past midnight)
    day = local.date()
    for candidate in (
        local_instant(day, window.end, zone_name),
        local_instant(day, window.end, zone_name, fold=1),
        local_instant(day + timedelta(days=1), window.end, zone_name),
    ):
        if candidate > instant:
            return candidate
    return local_instant(day + timedelta(days=2), window.end, zone_name)


def out_of_quiet_hours(
    instant: datetime, zones: Sequence[str], windows: Sequence[QuietWindow]
) -> datetime | None:
    """The earliest instant at or after `instant` outside every window in every zone (None if none is
    found within MAX_MOVES moves: zones spread so wide that their windows cover the whole day)."""
    current = instant
    for _ in range(MAX_MOVES):
        ends = [
            end
            for name in zones
            for window in windows
            if (end := _window_end(current, name, window)) is not None
        ]
        if not ends:
            return current
        current = max(ends)
    return None


def reminder_anchor(
    start: datetime | None, all_day: date | None, zone_name: str, rules: Rules
) -> tuple[datetime, datetime]:
    """(ideal send instant, deadline) for a timed event (start - lead, start) or an all-day event
    (the configured local time on its day, the end of that day)."""
    if start is not None:
        return start.astimezone(UTC) - rules.lead, start.astimezone(UTC)
    if all_day is None:
        raise ValueError("an event has a start or an all-day date")
    return local_instant(all_day, rules.all_day_at, zone_name), local_instant(
        all_day + timedelta(days=1), time(0, 0), zone_name
    )


def decide(
    start: datetime | None,
    all_day: date | None,
    zones: Sequence[str],
    rules: Rules,
    now: datetime,
) -> Decision:
    """When to send one event's reminder, judged in the recipient's zones (the first is their own)."""
    ideal, deadline = reminder_anchor(start, all_day, zones[0], rules)
    candidate = max(ideal, now.astimezone(UTC))
    if candidate >= deadline:
        return Decision(None, TOO_LATE)
    moved = out_of_quiet_hours(candidate, zones, rules.quiet)
    if moved is None:
        return Decision(None, NO_ALLOWED_TIME)
    if moved >= deadline:
        return Decision(None, QUIET_HOURS)
    return Decision(moved, moved_by_quiet_hours=moved != candidate)


def local_day(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()


def over_daily_limit(
    scheduled: Iterable[tuple[str, datetime]],
    zone_name: str,
    limit: int,
    already_sent: dict[date, int] | None = None,
) -> set[str]:
    """Ids of the reminders beyond `limit` on their recipient's local day: the earliest ones are kept
    (ties by id, so every run picks the same); `already_sent` counts the day's sends before these."""
    by_day: dict[date, list[tuple[datetime, str]]] = defaultdict(list)
    for reminder_id, send_at in scheduled:
        by_day[local_day(send_at, zone_name)].append((send_at, reminder_id))
    excess: set[str] = set()
    for day, entries in by_day.items():
        room = max(limit - (already_sent or {}).get(day, 0), 0)
        excess.update(reminder_id for _, reminder_id in sorted(entries)[room:])
    return excess


def zones_for(
    attendee_zone: str | None, number_zones: Sequence[str], event_zone: str | None
) -> tuple[str, ...]:
    """The zones a recipient's time is judged in: the booking's attendee zone when given (people keep
    their numbers when they move), else every zone the number maps to, else the event's, else UTC."""
    if attendee_zone:
        return (attendee_zone,)
    known = tuple(name for name in number_zones if name != "Etc/Unknown")
    if known:
        return known
    return (event_zone or "UTC",)
