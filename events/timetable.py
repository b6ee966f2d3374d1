"""Lay the published sessions of one day out as a grid: time slots down, rooms across.

The template renders it as a table on wide screens; CSS turns the same markup into a
chronological list on phones, so the page carries the programme only once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from django.utils import timezone

from events.models import Room, Session

PLENARY_KINDS = {Session.Kind.KEYNOTE, Session.Kind.BREAK}


@dataclass
class Cell:
    sessions: list[Session] = field(default_factory=list)
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Row:
    starts_at: datetime
    cells: list[Cell]

    @property
    def has_sessions(self) -> bool:
        return any(cell.sessions for cell in self.cells)


@dataclass
class Day:
    date: date
    rooms: list[Room]
    rows: list[Row]


def build_days(sessions: list[Session]) -> list[Day]:
    """Sessions must be ordered by start time (SessionQuerySet.for_programme does that)."""
    by_day = groupby(sessions, key=lambda s: timezone.localdate(s.starts_at))
    return [_build_day(day, list(day_sessions)) for day, day_sessions in by_day]


def _build_day(day: date, sessions: list[Session]) -> Day:
    rooms = sorted({s.room_id: s.room for s in sessions}.values(), key=lambda r: (r.position, r.name))
    column = {room.pk: index for index, room in enumerate(rooms)}
    bounds = sorted({s.starts_at for s in sessions} | {s.ends_at for s in sessions})
    row_of = {moment: index for index, moment in enumerate(bounds)}
    # grid[row][col] is the Cell that starts there, a Cell object from above (covered), or None
    grid: list[list[Cell | None]] = [[None] * len(rooms) for _ in bounds[:-1]]
    starts: dict[tuple[int, int], Cell] = {}

    for session in sessions:
        first, last = row_of[session.starts_at], row_of[session.ends_at]
        cols = range(len(rooms)) if _is_plenary(session, sessions) else [column[session.room_id]]
        occupant = next((grid[r][c] for r in range(first, last) for c in cols if grid[r][c]), None)
        if occupant is not None:  # an overlap the admin should have refused: show it, don't lose it
            occupant.sessions.append(session)
            continue
        cell = Cell(sessions=[session], rowspan=last - first, colspan=len(cols))
        starts[(first, cols[0])] = cell
        for r in range(first, last):
            for c in cols:
                grid[r][c] = cell

    rows = []
    for r, moment in enumerate(bounds[:-1]):
        cells = []
        for c in range(len(rooms)):
            if (r, c) in starts:
                cells.append(starts[(r, c)])
            elif grid[r][c] is None:
                cells.append(Cell())
        rows.append(Row(starts_at=moment, cells=cells))
    return Day(date=day, rooms=rooms, rows=rows)


def _is_plenary(session: Session, sessions: list[Session]) -> bool:
    """A keynote or break that nothing else overlaps spans every room."""
    if session.kind not in PLENARY_KINDS:
        return False
    return not any(
        other is not session and other.starts_at < session.ends_at and other.ends_at > session.starts_at
        for other in sessions
    )
