"""Sample exports from a realistic year: docs/samples/sample-record.pdf, sample-chart.png.

    python bench/make_samples.py [--out docs/samples]

Builds an IET engineer's 2025 CPD year (and a STEP practitioner's, for the cover sheet)
in a throwaway SQLite database through the same storage and engine code the bot uses,
then writes the PDF, the Markdown and the chart as of 12 January 2026.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.model import IdentityKey, ReflectionView
from bot.core.plan import GapNote
from bot.core.schemes import default_schemes
from bot.services import records
from bot.services.chart import progress_png
from bot.services.engine import Engine
from bot.services.printable import to_markdown, to_pdf
from storage import entry_store, repo
from storage import plan_store as plan_repo
from storage.db import Database

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

# (date, minutes, category, title, key points, change) — None: reflection left for later.
Year = list[tuple[str, int, str, str, str | None, str | None]]

IET_YEAR: Year = [
    (
        "2025-01-14",
        90,
        "events_and_seminars",
        "IET webinar: arc-flash risk assessment",
        "Incident energy depends on clearing time as much as fault level; labels must be redone "
        "after protection changes.",
        "I will check protection settings whenever we relabel a switchboard.",
    ),
    (
        "2025-01-28",
        60,
        "self_study",
        "Read BS 7671:2018+A2 – changes to RCD requirements",
        "Type AC RCDs are now restricted; additional protection for socket outlets up to 32 A.",
        "Update our design checklist to call for Type A as the default.",
    ),
    (
        "2025-02-11",
        240,
        "training_courses",
        "Course: protection coordination with ETAP",
        "How to build time-current curves and check grading margins across three levels.",
        "Run a coordination study on the new substation before commissioning.",
    ),
    (
        "2025-02-25",
        45,
        "work_experience",
        "Site visit: 11 kV switchroom commissioning",
        "Saw primary injection testing; the sequence matters when CTs share a core.",
        None,
    ),
    (
        "2025-03-12",
        120,
        "volunteering",
        "STEM Ambassador session at Hillside Primary",
        "Explaining circuits with squishy dough kept 30 eight-year-olds engaged for an hour.",
        "Use physical demos when I brief non-engineers on site.",
    ),
    (
        "2025-03-27",
        30,
        "self_study",
        "E&T article: grid-forming inverters",
        "Grid-forming control can provide inertia; weak-grid stability is the open question.",
        "Ask our supplier whether their inverters support grid-forming mode.",
    ),
    (
        "2025-04-09",
        180,
        "events_and_seminars",
        "IET Power Academy seminar – protection of inverter-based resources",
        "Fault current from inverters is limited to ~1.2 pu, so overcurrent relays may not see it.",
        "Consider distance or voltage-controlled protection on the PV feeders.",
    ),
    (
        "2025-04-23",
        60,
        "work_experience",
        "Design review lead: battery storage layout",
        "Leading the review meant asking open questions and letting juniors present first.",
        "Rotate the presenter role in each review.",
    ),
    (
        "2025-05-08",
        90,
        "self_study",
        "Café scientifique – hydrogen in gas networks",
        "Embrittlement limits blends to around 20% in older steel pipes.",
        "Share the summary with the energy-transition working group.",
    ),
    (
        "2025-05-21",
        120,
        "training_courses",
        "Online course: ethics and AI in safety-critical systems",
        "Accountability cannot be delegated to a model; a human must own each safety decision.",
        "Add an ethics question to our design-review template.",
    ),
    (
        "2025-06-04",
        45,
        "work_experience",
        "Incident review: tripped feeder at Plant B",
        "A setting typo, not a fault: independent checking of settings files is essential.",
        "Introduce a second-person check on every settings change.",
    ),
    (
        "2025-06-18",
        240,
        "events_and_seminars",
        "Conference: Future Networks 2025 (day 1)",
        "DSO flexibility markets are real now; three utilities shared settlement data.",
        None,
    ),
    (
        "2025-07-02",
        60,
        "self_study",
        "Read IET Code of Practice for electrical energy storage",
        "Chapter 7 on fire separation distances changed my view of our container layout.",
        "Review container spacing with the fire engineer.",
    ),
    (
        "2025-07-16",
        30,
        "volunteering",
        "Mentoring call with a graduate engineer 🚀",
        "Helping someone else plan their IPD made me realise my own gaps in commercial skills.",
        "Set a business objective for next year.",
    ),
    (
        "2025-08-13",
        90,
        "academic_study",
        "Open University module reading: power electronics",
        "Switching losses dominate at high frequency; soft switching trades complexity for "
        "efficiency.",
        "Question the efficiency figures in inverter datasheets.",
    ),
    (
        "2025-09-03",
        120,
        "work_experience",
        "Commissioning: 33 kV protection relays",
        "Testing every trip path end to end found one wiring error the drawings hid.",
        "Always test to the breaker, never just to the relay output.",
    ),
    (
        "2025-09-17",
        60,
        "events_and_seminars",
        "IET webinar: cyber security for substations",
        "IEC 62351 secures GOOSE messages; most sites still run them unauthenticated.",
        "Raise GOOSE security at the next asset-management meeting.",
    ),
    (
        "2025-10-01",
        150,
        "training_courses",
        "First aid at work refresher",
        "CPR compressions at 100–120 a minute; AED pads placement on a small adult.",
        "Check the AED on our floor each month.",
    ),
    (
        "2025-10-15",
        45,
        "self_study",
        "Read: 'Thinking in Systems' (chapters 1–3)",
        "Stocks and flows explain why our spares backlog never clears.",
        "Model the spares pipeline before asking for more budget.",
    ),
    (
        "2025-10-29",
        90,
        "work_experience",
        "Shadowed the commercial manager on a tender",
        "Risk pricing is a judgement call; engineers' caveats end up as contract clauses.",
        "Write clearer assumptions in my technical submissions.",
    ),
    (
        "2025-11-12",
        60,
        "events_and_seminars",
        "Local network talk: heat pumps and LV networks",
        "Diversity factors for heat pumps are far lower than for other domestic loads.",
        None,
    ),
    (
        "2025-11-26",
        120,
        "volunteering",
        "Reviewed papers for the IET Younger Members awards",
        "Judging others' work against criteria sharpened how I write my own.",
        "Use the award criteria as a checklist for my CEng application.",
    ),
    (
        "2025-12-03",
        90,
        "training_courses",
        "Course: NEC4 contracts for engineers",
        "Early warnings are a tool, not a confession; compensation events have strict timing.",
        "Log early warnings on the storage project this week.",
    ),
    (
        "2025-12-10",
        60,
        "self_study",
        "Read Electra article on dynamic line rating",
        "Real-time ratings can add 20–30% capacity on windy days.",
        "Ask the network planner whether DLR is on our roadmap.",
    ),
]

STEP_YEAR: Year = [
    (
        "2025-02-06",
        90,
        "webinar",
        "STEP webinar: ethics of acting for both spouses",
        "Yes, again",
        "I now record conflicts of interest at the first meeting.",
    ),
    (
        "2025-03-20",
        420,
        "conference",
        "STEP England & Wales conference",
        "Yes, again",
        "The update on trust registration changed our onboarding checklist.",
    ),
    (
        "2025-05-15",
        60,
        "reading",
        "STEP Journal: digital assets in estates",
        "Something different",
        None,
    ),
    (
        "2025-07-10",
        120,
        "in_house",
        "In-house update: IHT changes for pensions",
        "Yes, again",
        "Clients with large pensions need new projections this year.",
    ),
    (
        "2025-09-25",
        180,
        "course",
        "Online course: vulnerable clients and capacity",
        "Yes, again",
        "I set a written capacity check for every new will instruction.",
    ),
    ("2025-11-13", 45, "research", "Research: foreign trusts and UK reporting", None, None),
]


def _build(engine: Engine, key: IdentityKey, scheme: str, name: str, year: Year) -> None:
    sch = engine.schemes[scheme]
    asked = sch.asked_questions()
    with engine.db.transaction() as session:
        _, person, _ = repo.get_or_create_identity(session, key, now=NOW, display_name=name)
        repo.update_person(
            session,
            person.id,
            {
                "scheme_id": scheme,
                "status_id": sch.default_status,
                "timezone": "Europe/London",
                "onboarded": True,
            },
        )
        assert person.id is not None
        for n, (day, minutes, cat, title, a1, a2) in enumerate(year, 1):
            category = sch.category(cat)
            structured = category.structured if category else None
            entry_store.create_entry(
                session,
                person.id,
                number=n,
                title=title,
                activity_date=date.fromisoformat(day),
                minutes=minutes,
                category=cat,
                structured=structured,
                source="chat",
                reflections=[
                    ReflectionView(asked[0].id, asked[0].text, a1),
                    ReflectionView(asked[1].id, asked[1].text, a2),
                ],
                now=NOW,
            )
        if scheme == "iet":
            plan_repo.set_role(
                session,
                person.id,
                "Senior electrical engineer, renewables grid connections",
                now=NOW,
            )
            o1 = plan_repo.add_objective(
                session,
                person.id,
                title="Master protection coordination for inverter-based plant",
                area="technical",
                target_date=date(2025, 9, 30),
                now=NOW,
            )
            o2 = plan_repo.add_objective(
                session,
                person.id,
                title="Lead design reviews confidently",
                area="management",
                target_date=date(2025, 12, 31),
                now=NOW,
            )
            o3 = plan_repo.add_objective(
                session,
                person.id,
                title="Understand contracts and tendering",
                area="business",
                target_date=date(2026, 6, 30),
                now=NOW,
            )
            for entry, objective in [
                (3, o1),
                (7, o1),
                (16, o1),
                (8, o2),
                (11, o2),
                (20, o3),
                (23, o3),
            ]:
                plan_repo.link_entry(session, person.id, entry, objective.number)
            plan_repo.set_objective_done(session, person.id, o1.number, done=True, now=NOW)
            for entry, tags in [(3, ["A", "B"]), (8, ["C", "D"]), (10, ["E"]), (5, ["D"])]:
                plan_repo.set_entry_tags(session, person.id, entry, tags)
        if scheme == "step":
            plan_repo.set_responsibilities(
                session,
                person.id,
                [
                    "Drafting wills and lasting powers of attorney",
                    "Trust administration and registration",
                    "Inheritance tax planning",
                    "Client care, including vulnerable clients",
                    "Ethical behaviour and managing conflicts of interest",
                    "Supervising two paralegals",
                ],
            )
            o = plan_repo.add_objective(
                session,
                person.id,
                title="Keep up with IHT on pensions",
                area="technical",
                target_date=date(2025, 12, 31),
                now=NOW,
            )
            plan_repo.link_entry(session, person.id, 4, o.number)
            plan_repo.add_gap_note(
                session, person.id, GapNote(date(2025, 12, 1), date(2025, 12, 31), "Holiday")
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/samples"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/samples.db")
        db.create_all()
        engine = Engine(db, default_schemes(), clock=lambda: NOW)
        for key, scheme, name, year, stem in [
            (IdentityKey("console", "sam"), "iet", "Sam Patel CEng", IET_YEAR, "sample"),
            (IdentityKey("console", "jo"), "step", "Jo Müller TEP", STEP_YEAR, "sample-step"),
        ]:
            _build(engine, key, scheme, name, year)
            report = records.report_for(engine, key, 2025)
            assert report is not None
            assessment = report.assessment
            png = progress_png(report.record, assessment.target_minutes, today=report.today)
            pdf = to_pdf(report.record, assessment, report.plan, png)
            (out / f"{stem}-record.pdf").write_bytes(pdf)
            (out / f"{stem}-record.md").write_bytes(
                to_markdown(report.record, assessment, report.plan)
            )
            if stem == "sample":
                (out / "sample-chart.png").write_bytes(png)
            print(f"{stem}: {len(report.record.entries)} entries, {len(pdf):,} bytes of PDF")
            for line in assessment.lines():
                print("  " + line)
        db.dispose()


if __name__ == "__main__":
    main()
