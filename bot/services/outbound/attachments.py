"""An outbox row's message as sent: its attachment made at send time from the pointer
stored (the CPD year's record as CSV or JSON, or its progress chart)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.core import agenda
from bot.core.export import to_csv, to_json
from bot.core.model import Attachment, Outgoing
from bot.core.record import MIME, Record, chart_name, file_name
from bot.core.schemes import Scheme, scheme_for
from bot.core.zones import local_today
from bot.services.outbound.chart_pool import ChartPool
from bot.services.records import load_report, year_record
from storage import outbox, repo
from storage.db import Database
from storage.models import Person

log = logging.getLogger("cpdbot.jobs")


class Attachments:
    """Renders claimed rows: the text and buttons stored, the attachment made now."""

    def __init__(self, db: Database, schemes: Mapping[str, Scheme], charts: ChartPool) -> None:
        self.db = db
        self.schemes = schemes
        self.charts = charts

    async def render(self, row: outbox.Claimed, now: datetime) -> Outgoing:
        """The message of an outbox row, its attachment made now from the pointer stored."""
        reply = agenda.outgoing(row.payload)
        pointer = row.payload.get("attachment")
        if isinstance(pointer, dict) and "chart" in pointer:
            start = date.fromisoformat(str(pointer["chart"]))
            chart = await self._chart(row, start, now)
            return Outgoing(reply.text, reply.choices, attachment=chart)
        if not isinstance(pointer, dict) or "record" not in pointer:
            return reply
        return await asyncio.to_thread(self._record_file, row, reply, pointer)

    def _record_file(
        self, row: outbox.Claimed, reply: Outgoing, pointer: Mapping[str, Any]
    ) -> Outgoing:
        record = self._record(row.person_id, date.fromisoformat(str(pointer["record"])))
        kind = str(pointer.get("format", "csv"))
        data = to_json(record) if kind == "json" else to_csv(record)
        mime = MIME["json" if kind == "json" else "csv"]
        return Outgoing(
            reply.text, reply.choices, attachment=Attachment(file_name(record, kind), data, mime)
        )

    def _record(self, person_id: int, start: date) -> Record:
        with self.db.transaction() as session:
            return self._record_in(session, person_id, start)

    def _record_in(self, session: Session, person_id: int, start: date) -> Record:
        person = session.get(Person, person_id)
        if person is None:
            raise LookupError(f"person {person_id} is gone")
        view = repo.person_view(person)
        scheme = scheme_for(self.schemes, view.scheme_id)
        return year_record(session, person_id, view, scheme, today=start)

    async def _chart(self, row: outbox.Claimed, start: date, now: datetime) -> Attachment | None:
        """The progress chart of the CPD year starting on `start`, drawn now (only for rows
        being sent: deciding 100,000 nudges draws nothing). The target line is the year's
        after leave or exemptions. A chart that cannot be drawn leaves the text to go alone."""
        try:
            record, target, today = await asyncio.to_thread(self._chart_data, row, start, now)
            png = await self.charts.draw(record, target, today)
        except LookupError:
            raise  # the person is gone: nothing to send
        except Exception:
            log.exception("outbox %s: drawing the chart failed; sending the text alone", row.id)
            return None
        return Attachment(chart_name(record), png, MIME["png"])

    def _chart_data(
        self, row: outbox.Claimed, start: date, now: datetime
    ) -> tuple[Record, int | None, date]:
        with self.db.transaction() as session:
            record = self._record_in(session, row.person_id, start)
            today = local_today(now, record.person.timezone)
            report = load_report(session, row.person_id, record, today)
        return record, report.assessment.target_minutes, today
