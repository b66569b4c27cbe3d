"""The gradebook over real HTTP: a teacher records grades (idempotently), bad scores are named,
finalising is refused while assessments are missing and forced with a reason, the
records.term.finalized event reaches Kafka, a finalised grade changes only as a reasoned
correction, the học bạ downloads as PDF, and another school is kept out."""

from __future__ import annotations

import json

import pytest

from shared.tests.support import read_topic
from tests.e2e.support import enrolment, new_school

pytestmark = pytest.mark.e2e

YEAR = "2025-2026"


async def test_gradebook_round_trip(platform, kafka):
    with platform.client() as department:
        _, school = new_school(platform, department)
        _, other_school = new_school(platform, department)
    records = platform.url("records")
    grades_url = f"{records}/gradebook/grades"
    with (
        platform.client(role="school", org=school) as office,
        platform.client(role="teacher", org=school) as teacher,
    ):
        created = office.post(
            f"{records}/classes",
            json={"school_id": school, "school_year": YEAR, "grade": 6, "name": "6A"},
        )
        assert created.status_code == 201, created.text
        class_id = created.json()["class_id"]
        class_url = f"{records}/gradebook/classes/{class_id}"
        enrolled = office.post(
            f"{records}/enrolments", json=enrolment(school, class_id=class_id, grade=6)
        )
        assert enrolled.status_code == 201, enrolled.text
        learner = enrolled.json()["learner_id"]
        grade = {
            "learner_id": learner,
            "school_id": school,
            "class_id": class_id,
            "school_year": YEAR,
            "semester": 1,
            "subject_code": "toan",
            "assessment": "regular",
            "sequence": 1,
            "score": "8,5",
        }
        headers = {"Idempotency-Key": f"grade-{learner}-1"}
        first = teacher.post(grades_url, json=grade, headers=headers)
        assert first.status_code == 201, first.text
        assert first.json()["score"] == 8.5
        retried = teacher.post(grades_url, json=grade, headers=headers)
        assert retried.headers["Idempotency-Replayed"] == "true"
        assert retried.json()["entry_id"] == first.json()["entry_id"]

        bad = teacher.post(grades_url, json=grade | {"sequence": 2, "score": 7.25})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert [(e["field"], e["type"]) for e in bad.json()["errors"]] == [
            ("body.score", "one_decimal")
        ]

        params = {"school_id": school, "school_year": YEAR, "semester": 1}
        book = teacher.get(class_url, params=params)
        assert book.status_code == 200, book.text
        (row,) = book.json()["learners"]
        assert [e["score"] for e in row["entries"]] == [8.5]

        finalize_url = f"{class_url}/finalizations"
        term = {"school_id": school, "school_year": YEAR, "semester": 1}
        refused = office.post(finalize_url, json=term)
        assert refused.status_code == 409
        missing = {e["field"] for e in refused.json()["errors"]}
        assert (
            f"learners.{learner}.toan" in missing
            and f"learners.{learner}.khoa_hoc_tu_nhien" in missing
        )
        forced = office.post(
            finalize_url, json=term | {"force": True, "reason": "Kiểm thử khoá sổ"}
        )
        assert forced.status_code == 201, forced.text
        assert forced.json()["term"]["status"] == "finalized"

        locked = teacher.post(grades_url, json=grade | {"score": 9})
        assert locked.status_code == 409
        corrected = teacher.post(grades_url, json=grade | {"score": 9, "reason": "Chấm phúc khảo"})
        assert corrected.status_code == 201, corrected.text
        assert corrected.json()["corrects"] == first.json()["entry_id"]

        pdf = teacher.get(f"{records}/gradebook/transcripts/{learner}/{YEAR}.pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

    with platform.client(role="school", org=other_school) as outsider:
        assert outsider.post(grades_url, json=grade | {"sequence": 2}).status_code == 403
        assert outsider.get(class_url, params=params).status_code == 403
        assert (
            outsider.get(f"{records}/gradebook/transcripts/{learner}/{YEAR}.pdf").status_code == 404
        )

    # Finalised once, then published again after the reasoned correction.
    published = await read_topic(kafka.bootstrap_servers, "records.term.finalized", expect=2)
    events = [json.loads(record.value)["data"] for record in published]
    ours, republished = [e for e in events if e["school_id"] == school]
    assert (republished["class_id"], republished["semester"]) == (class_id, 1)
    assert (ours["class_id"], ours["semester"], ours["grade"]) == (class_id, 1, 6)
    assert ours["results"][0]["learner_id"] == learner
    assert ours["results"][0]["subject_averages"]["toan"] is None  # forced with gaps
