"""Several bodies, one record (issue 16): an entry's reflections as another body reads
them (pure, no I/O).

The logging dialogue and /reflect ask only the main body's questions. Another body's
per-activity check ("Reflection on each activity", IET key points) counts an entry's
answers to the main body's questions where that body's scheme file says they ask the
same thing (`answered_by` on its questions, with the guidance quoted there). Where they
do not, the check says so instead of pointing to /reflect, which would not ask it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core.assessment import Requirement
from bot.core.model import EntryView, ReflectionView
from bot.core.scheme_checks import per_entry_checks
from bot.core.schemes import Scheme


def read_for(entry: EntryView, primary: Scheme, scheme: Scheme) -> EntryView:
    """`entry` with its reflections read for `scheme`: each of its questions answered where
    the main body's counterparts are (their answers joined). The main body's own answers
    stay, under '<main id>:<question id>', so that an id both schemes use ('impact') is
    never taken for the other's."""
    answers = {r.question_id: r.answer for r in entry.reflections if r.answer and r.answer.strip()}
    kept = tuple(replace(r, question_id=f"{primary.id}:{r.question_id}") for r in entry.reflections)
    mapped = []
    for question in scheme.questions:
        found = [answers[i] for i in question.counterparts(primary.id) if i in answers]
        if found:
            mapped.append(ReflectionView(question.id, question.text, "\n".join(found)))
    return replace(entry, reflections=kept + tuple(mapped))


def explained(
    requirements: Sequence[Requirement], primary: Scheme, scheme: Scheme
) -> tuple[Requirement, ...]:
    """`scheme`'s requirements with each per-activity check still open saying what /reflect
    can do about it: which of the main body's questions count, or that none does."""
    asked = {q.id for q in primary.asked_questions()}
    checks = {check_id: questions for check_id, _, questions in per_entry_checks(scheme)}
    out = []
    for req in requirements:
        questions = checks.get(req.id)
        if questions is None or req.state != "not_yet":
            out.append(req)
            continue
        names = [_name(primary, q) for q in _counted(scheme, questions, primary.id, asked)]
        lacking = [q for q in questions if not _counted(scheme, (q,), primary.id, asked)]
        if lacking:
            missing = " and ".join(_name(scheme, q) for q in lacking)
            action = (
                f"{scheme.name} asks for {missing}, which /reflect does not ask while "
                f"{primary.name} is your main body (/settings body changes it)"
            )
        else:
            action = (
                f"{req.action} ({primary.name}'s {' and '.join(names)} count for {scheme.name})"
            )
        out.append(replace(req, action=action))
    return tuple(out)


def _counted(
    scheme: Scheme, questions: Sequence[str], primary_id: str, asked: set[str]
) -> list[str]:
    """The main body's asked questions that answer any of `questions` of `scheme`."""
    found: list[str] = []
    for question_id in questions:
        question = scheme.question(question_id)
        for counterpart in question.counterparts(primary_id) if question else ():
            if counterpart in asked and counterpart not in found:
                found.append(counterpart)
    return found


def _name(scheme: Scheme, question_id: str) -> str:
    question = scheme.question(question_id)
    return question.name if question else question_id
