"""The template's Schedule / ScheduleV2 events, fired by the local stack's clock.

EventBridge runs `rate(...)`, `cron(...)` (and, for ScheduleV2, one-time `at(...)`) expressions; here a
`StackClock` runs them, `--time-scale` times faster than real time: the stack clock starts at the real
time the stack starts and then advances N seconds per real second, so at time scale 60 `rate(1 hour)`
fires every real minute and `cron(0 2 * * ? *)` once every 24 real minutes (when the stack clock passes
02:00). A rate's first fire is one period after the start, as a new EventBridge rule's is (the stack's
`--schedules startup` also fires each one at once). A fire that falls due while another is running
waits for it; fires missed meanwhile are skipped, never caught up.

Each fire invokes the function through its runtime with an EventBridge scheduled event (or the
schedule's `Input`, when it has one). The event's `time` is the wall-clock time of the invocation - what
the function's own clock says - not the stack clock's.

Supported cron syntax (AWS's six fields: minutes hours day-of-month month day-of-week year): numbers,
`*`, `?`, lists `a,b`, ranges `a-b`, steps `*/n` `a/n` `a-b/n`, month names JAN-DEC, weekday names
SUN-SAT (1 = SUN), `L` (last day of the month), `LW`, `nW` (nearest weekday), `nL` (last weekday n of
the month) and `n#k` (k-th weekday n). One of day-of-month and day-of-week must be `?`, as in AWS.
"""

from __future__ import annotations

import calendar
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from switchboard_ops.local.functions import ScheduleSource

SCHEDULES_ENV = "SWITCHBOARD_SCHEDULES"
SCHEDULE_MODES = ("on", "off", "startup")  # startup: also fire every schedule once when the stack starts
_SEARCH_DAYS = 366 * 5  # a cron with no fire within five years is treated as never firing


class ScheduleError(ValueError):
    """An expression EventBridge would refuse (or one this stack cannot run): a message, no trace."""


class Expression(Protocol):
    @property
    def text(self) -> str: ...

    def next_after(self, after: float, anchor: float) -> float | None:
        """The first fire strictly after `after` (epoch seconds on the stack clock); None: never."""
        ...

    def period_seconds(self) -> float | None:
        """The fixed interval between fires, when there is one (rates)."""
        ...


# --- rate(...) -------------------------------------------------------------------------------------

_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    text: str
    seconds: int

    def next_after(self, after: float, anchor: float) -> float | None:
        """anchor + k periods, the first one after `after` (anchor: when the stack started)."""
        periods = int((after - anchor) // self.seconds) + 1 if after >= anchor else 1
        return anchor + periods * self.seconds

    def period_seconds(self) -> float | None:
        return float(self.seconds)


def _rate(text: str, body: str) -> Rate:
    match = re.fullmatch(r"\s*(\d+)\s+([a-z]+)\s*", body)
    if not match:
        raise ScheduleError(f"{text}: expected rate(<value> <minute|minutes|hour|hours|day|days>)")
    value, unit = int(match[1]), match[2]
    singular = unit.removesuffix("s")
    if singular not in _UNITS or value < 1:
        raise ScheduleError(
            f"{text}: the value must be a whole number >= 1 and the unit minute(s), hour(s) or day(s)"
        )
    if (value == 1) != (unit == singular):
        raise ScheduleError(f"{text}: EventBridge wants the singular unit for 1 and the plural for more")
    return Rate(text, value * _UNITS[singular])


# --- cron(...) -------------------------------------------------------------------------------------

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _aws_weekday(day: date) -> int:
    """AWS numbers the days of the week 1 (Sunday) to 7 (Saturday)."""
    return (day.weekday() + 1) % 7 + 1


def _number(token: str, names: dict[str, int], low: int, high: int, what: str) -> int:
    value = names.get(token.upper()) if not token.isdigit() else int(token)
    if value is None or not low <= value <= high:
        raise ScheduleError(f"{what}: {token!r} is not in {low}-{high}")
    return value


def _values(
    field_text: str, low: int, high: int, what: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    """`*`, `?`, `a`, `a-b`, `*/n`, `a/n`, `a-b/n`, comma-separated; a range may wrap (FRI-MON)."""
    names = names or {}
    values: set[int] = set()
    for part in field_text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ScheduleError(f"{what}: bad step in {part!r}")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, names, low, high, what), _number(last, names, low, high, what)
        else:
            start = _number(base, names, low, high, what)
            end = high if step else start
        span = (
            list(range(start, end + 1)) if start <= end else [*range(start, high + 1), *range(low, end + 1)]
        )
        values.update(span[:: step or 1])
    return frozenset(values)


DayRule = Callable[[date], bool]


def _day_of_month(text: str) -> DayRule | None:
    """None for `?`; else a test of a date."""
    if text == "?":
        return None
    if text == "L":
        return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
    if text == "LW":
        return lambda day: (
            day == _nearest_weekday(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        )
    match = re.fullmatch(r"(\d{1,2})W", text)
    if match:
        wanted = _number(match[1], {}, 1, 31, "day-of-month")
        return lambda day: day == _nearest_weekday(day.year, day.month, wanted)
    days = _values(text, 1, 31, "day-of-month")
    return lambda day: day.day in days


def _nearest_weekday(year: int, month: int, wanted: int) -> date | None:
    """`15W`: the weekday nearest the 15th, within the month."""
    last = calendar.monthrange(year, month)[1]
    if wanted > last:
        return None
    target = date(year, month, wanted)
    if target.weekday() == 5:  # Saturday -> Friday, or Monday when the 1st is a Saturday
        return target - timedelta(days=1) if wanted > 1 else target + timedelta(days=2)
    if target.weekday() == 6:  # Sunday -> Monday, or Friday when it is the last day
        return target + timedelta(days=1) if wanted < last else target - timedelta(days=2)
    return target


def _day_of_week(text: str) -> DayRule | None:
    if text == "?":
        return None
    match = re.fullmatch(r"([0-9A-Za-z]+)#([1-5])", text)
    if match:
        weekday, nth = _number(match[1], _WEEKDAYS, 1, 7, "day-of-week"), int(match[2])
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    match = re.fullmatch(r"([0-9A-Za-z]+)L", text)
    if match:
        weekday = _number(match[1], _WEEKDAYS, 1, 7, "day-of-week")
        return lambda day: (
            _aws_weekday(day) == weekday and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        )
    if text == "L":
        return lambda day: _aws_weekday(day) == 7
    days = _values(text, 1, 7, "day-of-week", _WEEKDAYS)
    return lambda day: _aws_weekday(day) in days


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    day: DayRule  # day-of-month or day-of-week, whichever is not `?`
    months: frozenset[int]
    years: frozenset[int]
    zone: tzinfo = UTC

    def next_after(self, after: float, anchor: float) -> float | None:
        start = datetime.fromtimestamp(after, tz=self.zone).replace(second=0, microsecond=0) + timedelta(
            minutes=1
        )
        times = sorted((hour, minute) for hour in self.hours for minute in self.minutes)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self.day(day):
                for hour, minute in times:
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                    if candidate >= start:
                        return candidate.timestamp()
            day += timedelta(days=1)
        return None

    def period_seconds(self) -> float | None:
        return None


def _cron(text: str, body: str, zone: tzinfo) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleError(
            f"{text}: a cron expression has six fields: minutes hours day-of-month month day-of-week year"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
    day = _day_of_month(dom) or _day_of_week(dow)
    assert day is not None
    return Cron(
        text=text,
        minutes=_values(minutes, 0, 59, "minutes"),
        hours=_values(hours, 0, 23, "hours"),
        day=day,
        months=_values(month, 1, 12, "month", _MONTHS),
        years=_values(year, 1970, 2199, "year"),
        zone=zone,
    )


# --- at(...) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    text: str
    moment: float

    def next_after(self, after: float, anchor: float) -> float | None:
        return self.moment if self.moment > after else None

    def period_seconds(self) -> float | None:
        return None


def parse_expression(text: str, *, kind: str = "Schedule", timezone: str = "UTC") -> Expression:
    """rate(...) and cron(...) for both kinds; at(...) for ScheduleV2. Raises ScheduleError."""
    match = re.fullmatch(r"\s*(rate|cron|at)\((.*)\)\s*", text or "")
    if not match:
        raise ScheduleError(f"{text!r}: expected rate(...), cron(...) or at(...)")
    zone = _zone(timezone)
    if match[1] == "rate":
        return _rate(text, match[2])
    if match[1] == "cron":
        try:
            return _cron(text, match[2], zone)
        except ScheduleError as exc:
            raise ScheduleError(str(exc) if str(exc).startswith(text) else f"{text}: {exc}") from exc
    if kind != "ScheduleV2":
        raise ScheduleError(f"{text}: at(...) is a ScheduleV2 (EventBridge Scheduler) expression")
    try:
        moment = datetime.fromisoformat(match[2].strip())
    except ValueError as exc:
        raise ScheduleError(f"{text}: expected at(yyyy-mm-ddThh:mm:ss)") from exc
    return At(text, moment.replace(tzinfo=zone).timestamp())


def _zone(name: str) -> tzinfo:
    if name in ("UTC", "Etc/UTC", ""):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown ScheduleExpressionTimezone {name!r}") from exc


# --- the event -------------------------------------------------------------------------------------


def source_arn(source: ScheduleSource, region: str, account: str) -> str:
    if source.kind == "ScheduleV2":
        return f"arn:aws:scheduler:{region}:{account}:schedule/default/{source.rule_name}"
    return f"arn:aws:events:{region}:{account}:rule/{source.rule_name}"


def scheduled_event(source: ScheduleSource, *, region: str, account: str, now: float | None = None) -> Any:
    """What EventBridge delivers: the schedule's Input when it has one, else a "Scheduled Event"."""
    if source.input is not None:
        return json.loads(source.input)
    moment = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [source_arn(source, region, account)],
        "detail": {},
    }


# --- the clock and the timers ----------------------------------------------------------------------


class StackClock:
    """Starts at the real time and runs `scale` times faster: `now()` is epoch seconds on it."""

    def __init__(
        self,
        scale: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scale = scale
        self._monotonic = monotonic
        self._started_wall = wall()
        self._started = monotonic()

    @property
    def started_wall(self) -> float:
        """The real epoch second the clock started at (where rate schedules are anchored)."""
        return self._started_wall

    def now(self) -> float:
        return self._started_wall + (self._monotonic() - self._started) * self.scale

    def real_seconds_until(self, moment: float) -> float:
        return max(0.0, (moment - self.now()) / self.scale)


@dataclass
class Timer:
    source: ScheduleSource
    expression: Expression
    anchor: float
    next_at: float | None
    fired: int = 0
    last_outcome: str | None = None  # "ok" or the error's type


def _summary(result: Any, limit: int = 160) -> str:
    text = json.dumps(result, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Scheduler:
    """Fires every enabled schedule on `clock` (one thread); `fire(source)` invokes the function."""

    sources: list[ScheduleSource]
    fire: Callable[[ScheduleSource], Any]
    clock: StackClock
    stop_event: threading.Event = field(default_factory=threading.Event)
    at_start: bool = False
    log: Callable[[str], None] = _stderr
    timers: list[Timer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # schedules that are not run, and why
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        anchor = self.clock.now()
        for source in self.sources:
            try:
                expression = parse_expression(source.expression, kind=source.kind, timezone=source.timezone)
            except ScheduleError as exc:
                self.problems.append(f"{source.function}.{source.event}: {exc}; not scheduled")
                continue
            if not source.enabled:
                self.problems.append(
                    f"{source.function}.{source.event}: {source.expression} is disabled; "
                    f"`switchboard local trigger {source.function}` still fires it"
                )
                continue
            self.timers.append(Timer(source, expression, anchor, expression.next_after(anchor, anchor)))

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="schedules", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop firing; wait for a fire in progress. True when the thread ended."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def run(self) -> None:
        if self.at_start:
            for timer in list(self.timers):
                if self.stop_event.is_set():
                    return
                self._fire(timer)
        while not self.stop_event.is_set():
            self.stop_event.wait(min(self.run_due(), 0.5))

    def run_due(self) -> float:
        """Fire every timer that is due (earliest first); real seconds until the next one is (inf: none)."""
        while not self.stop_event.is_set():
            due = min(
                (timer for timer in self.timers if timer.next_at is not None),
                key=lambda timer: timer.next_at or 0.0,
                default=None,
            )
            if due is None or due.next_at is None:
                return float("inf")
            wait = self.clock.real_seconds_until(due.next_at)
            if wait > 0:
                return wait
            self._fire(due)
            due.next_at = due.expression.next_after(max(due.next_at, self.clock.now()), due.anchor)
        return float("inf")

    def _fire(self, timer: Timer) -> None:
        source = timer.source
        started = time.perf_counter()
        label = f"SCHEDULE {source.expression} -> {source.function} ({source.event})"
        try:
            result = self.fire(source)
        except Exception:  # noqa: BLE001 - the function failed; the schedule keeps going, as in AWS
            timer.last_outcome = "error"
            self.log(f"[ERROR] {label} failed:\n{traceback.format_exc()}")
        else:
            timer.last_outcome = "ok"
            self.log(f"{label}: {_summary(result)} {(time.perf_counter() - started) * 1000:.0f} ms")
        timer.fired += 1

    def describe(self) -> list[dict[str, Any]]:
        """Each scheduled timer: its expression, when it fires next (real seconds from now), fired count."""
        described = []
        for timer in self.timers:
            period = timer.expression.period_seconds()
            described.append(
                {
                    "function": timer.source.function,
                    "event": timer.source.event,
                    "expression": timer.source.expression,
                    "kind": timer.source.kind,
                    "real_period_seconds": None if period is None else round(period / self.clock.scale, 3),
                    "next_in_seconds": None
                    if timer.next_at is None
                    else round(self.clock.real_seconds_until(timer.next_at), 3),
                    "next_at_stack_time": None
                    if timer.next_at is None
                    else datetime.fromtimestamp(timer.next_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "fired": timer.fired,
                    "last_outcome": timer.last_outcome,
                }
            )
        return described
