"""The gradebook end to end inside records, on a real PostgreSQL: grades recorded through the
handlers, averages and levels computed by hand, finalisation, corrections with reasons, the
events written to the outbox, the audit log, scope, and the học bạ PDF."""

from __future__ import annotations

import io
import json
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest

from services.records.gradebook import handlers, transcript
from services.records.gradebook.handlers import FinalizeCommand, GradeCreate
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

T = TypeVar("T")
NOW = datetime(2026, 1, 12, 8, 30, tzinfo=UTC)
YEAR = "2025-2026"
TEACHER = Principal("gv-nguyen-thi-lan", "teacher", "S-A")
SCHOOL = Principal("hieu-truong-a", "school", "S-A")
PRIMARY_SCHOOL = Principal("hieu-truong-p", "school", "S-P")
PRIMARY_TEACHER = Principal("gv-tran-van-minh", "teacher", "S-P")
OTHER_SCHOOL = Principal("hieu-truong-b", "school", "S-B")
DEPARTMENT = Principal("so-gddt", "department", "HP")

AN, BINH, CUONG = "L-AN", "L-BINH", "L-CUONG"
# Class ids are "school:year:name", as records' class registry makes them.
CLASS_6A, CLASS_4B = f"S-A:{YEAR}:6A", f"S-P:{YEAR}:4B"
COMMENT_SUBJECTS = ("gdtc", "am_nhac", "my_thuat", "hdtn", "gddp")

# Grade 6, semester 1: (regular scores, mid-term, end-term). Required regular assessments by
# periods a year: 140 and 105 periods -> 4, 35 -> 2.
Scores = dict[str, tuple[list[float], float, float]]
AN_SEMESTER_1: Scores = {
    "ngu_van": ([8, 8, 8, 8], 8, 9),  # (32 + 16 + 27) / 9 = 8.33 -> 8.3
    "toan": ([8, 9, 7.5, 8.5], 8, 9),  # (33 + 16 + 27) / 9 = 8.44 -> 8.4
    "ngoai_ngu": ([9, 9, 9, 9], 9, 9.5),  # (36 + 18 + 28.5) / 9 = 9.17 -> 9.2
    "gdcd": ([8, 8], 7, 8),  # (16 + 14 + 24) / 7 = 7.71 -> 7.7
    "lich_su_dia_ly": ([7, 7, 7, 7], 7.5, 8),  # (28 + 15 + 24) / 9 = 7.44 -> 7.4
    "khoa_hoc_tu_nhien": ([8.5, 8.5, 8.5, 8.5], 8, 8.5),  # (34 + 16 + 25.5) / 9 = 8.39 -> 8.4
    "cong_nghe": ([9, 9], 8, 9),  # (18 + 16 + 27) / 7 = 8.71 -> 8.7
    "tin_hoc": ([10, 10], 9, 9.5),  # (20 + 18 + 28.5) / 7 = 9.5
}
AN_AVERAGES_1 = {
    "ngu_van": 8.3,
    "toan": 8.4,
    "ngoai_ngu": 9.2,
    "gdcd": 7.7,
    "lich_su_dia_ly": 7.4,
    "khoa_hoc_tu_nhien": 8.4,
    "cong_nghe": 8.7,
    "tin_hoc": 9.5,
}
# Semester 2: the same except Toán: (36 + 18 + 30) / 9 = 9.33 -> 9.3; year (8.4 + 18.6) / 3 = 9.0
AN_SEMESTER_2: Scores = {**AN_SEMESTER_1, "toan": ([9, 9, 9, 9], 9, 10)}
# Bình: 7.0 everywhere, Toán (24 + 13 + 21) / 9 = 6.44 -> 6.4.
BINH_SEMESTER_1: Scores = {
    code: ([7.0] * len(regular), 7.0, 7.0) for code, (regular, _, _) in AN_SEMESTER_1.items()
} | {"toan": ([6, 6, 6, 6], 6.5, 7)}


async def tx(conn: Connection, work: Callable[[Connection], Awaitable[T]]) -> T:
    async with conn.transaction():
        return await work(conn)


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "records", Path("services/records/migrations"))
        await add_orgs(connection)
        yield connection
    await pool.close()


async def add_orgs(conn: Connection) -> None:
    units = [
        ("HP", "province", "Thành phố Hải Phòng", None, None),
        ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
        ("C-B", "commune", "Phường Lê Chân", "HP", None),
        ("S-A", "school", "Trường THCS Hồng Bàng", "C-A", "lower_secondary"),
        ("S-P", "school", "Trường Tiểu học Lê Lợi", "C-A", "primary"),
        ("S-B", "school", "Trường THCS Lê Chân", "C-B", "lower_secondary"),
    ]
    await conn.executemany(
        "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
        "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
        units,
    )


async def enrol(conn: Connection, learner: str, school: str, class_id: str, grade: int) -> None:
    await conn.execute(
        "INSERT INTO classes (class_id, school_id, school_year, grade, name) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        class_id,
        school,
        YEAR,
        grade,
        class_id.rsplit(":", 1)[-1],
    )
    await conn.execute(
        "INSERT INTO learners (learner_id, revision) VALUES ($1, 1) ON CONFLICT DO NOTHING",
        learner,
    )
    await conn.execute(
        "INSERT INTO enrolments (enrolment_id, learner_id, school_id, school_year, grade, "
        "class_id, enrolled_on) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        uuid.uuid4(),
        learner,
        school,
        YEAR,
        grade,
        class_id,
        date(2025, 9, 5),
    )


async def record(conn: Connection, principal: Principal = TEACHER, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"school_id": "S-A", "class_id": CLASS_6A, "school_year": YEAR}
    body = {"semester": 1, **body, **fields}
    command = GradeCreate(**body)
    return await tx(conn, lambda c: handlers.record_grade(c, principal, command, now=NOW))


async def fill_semester(
    conn: Connection,
    learner: str,
    semester: int,
    scored: Scores,
    comments: dict[str, str] | None = None,
) -> None:
    """Every assessment of a grade-6 learner's semester; comment subjects Đạt unless named."""
    common: dict[str, Any] = {"learner_id": learner, "semester": semester}
    for subject, (regular, mid, end) in scored.items():
        for sequence, score in enumerate(regular, start=1):
            await record(
                conn,
                **common,
                subject_code=subject,
                assessment="regular",
                sequence=sequence,
                score=score,
            )
        await record(conn, **common, subject_code=subject, assessment="mid_term", score=mid)
        await record(conn, **common, subject_code=subject, assessment="end_term", score=end)
    for subject in COMMENT_SUBJECTS:
        grade = (comments or {}).get(subject, "Đạt")
        for sequence in (1, 2):
            await record(
                conn,
                **common,
                subject_code=subject,
                assessment="regular",
                sequence=sequence,
                comment_grade=grade,
            )
        for kind in ("mid_term", "end_term"):
            await record(conn, **common, subject_code=subject, assessment=kind, comment_grade="Đạt")


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position", event_type
    )
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]


async def audit(conn: Connection, learner: str, action: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT actor, action, detail FROM audit_log WHERE entity_kind = 'learner' "
        "AND entity_id = $1 AND action = $2 ORDER BY id",
        learner,
        action,
    )
    return [dict(r) for r in rows]


def by_learner(results: Any) -> dict[str, Any]:
    return {learner.learner_id: learner for learner in results.learners}


def averages(learner: Any) -> dict[str, float | None]:
    return {s.subject_code: s.average for s in learner.subjects if s.scale == "score"}


async def results(conn: Connection, semester: int, principal: Principal = SCHOOL) -> Any:
    return await tx(
        conn,
        lambda c: handlers.class_results(
            c, principal, CLASS_6A, school_id="S-A", school_year=YEAR, semester=semester
        ),
    )


async def finalize(
    conn: Connection, semester: Literal[0, 1, 2], principal: Principal = SCHOOL, **fields: Any
) -> dict[str, Any]:
    command = FinalizeCommand(school_id="S-A", school_year=YEAR, semester=semester, **fields)
    return await tx(
        conn, lambda c: handlers.finalize_term(c, principal, CLASS_6A, command, now=NOW)
    )


async def expect_problem(status: int, work: Awaitable[Any]) -> Problem:
    with pytest.raises(Problem) as caught:
        await work
    assert caught.value.status == status, caught.value.detail
    return caught.value


def fields_of(problem: Problem) -> dict[str, dict[str, str]]:
    return {e["field"]: e for e in problem.errors or []}


# --- secondary: averages, levels, finalisation, corrections ---------------------------------------


async def test_secondary_semester_averages_levels_finalisation_and_correction(conn):
    await enrol(conn, AN, "S-A", CLASS_6A, 6)
    await enrol(conn, BINH, "S-A", CLASS_6A, 6)
    await fill_semester(conn, AN, 1, AN_SEMESTER_1)
    await fill_semester(conn, BINH, 1, BINH_SEMESTER_1, comments={"gdtc": "Chưa đạt"})

    learners = by_learner(await results(conn, 1))
    an, binh = learners[AN], learners[BINH]
    assert averages(an) == AN_AVERAGES_1
    # All scored >= 6.5 and six of them >= 8.0, every comment subject Đạt: Tốt.
    assert (an.learning_level, an.learning_level_vi) == ("tot", "Tốt")
    assert averages(binh) == {code: 7.0 for code in AN_AVERAGES_1} | {"toan": 6.4}
    gdtc = next(s for s in binh.subjects if s.subject_code == "gdtc")
    assert (gdtc.comment_grade, gdtc.average) == ("chua_dat", None)
    # Khá on the scores, but one comment subject Chưa đạt allows only Đạt; one step below
    # Khá, so the single-subject adjustment (two steps or more) does not apply.
    assert (binh.learning_level, binh.adjusted_for_subject) == ("dat", None)
    assert all(not s.missing for s in an.subjects)
    # Reading results is audited per learner.
    assert (await audit(conn, AN, "read"))[-1]["detail"]["what"] == "results"

    finalized = await finalize(conn, 1)
    assert finalized["term"]["status"] == "finalized"
    assert finalized["term"]["finalized_by"] == SCHOOL.subject
    (event,) = await events(conn, "records.term.finalized")
    assert {k: event[k] for k in ("school_id", "class_id", "school_year", "semester", "grade")} == {
        "school_id": "S-A",
        "class_id": CLASS_6A,
        "school_year": YEAR,
        "semester": 1,
        "grade": 6,
    }
    results_by_learner = {r["learner_id"]: r for r in event["results"]}
    assert results_by_learner[AN] == {
        "learner_id": AN,
        "subject_averages": AN_AVERAGES_1,
        "comment_grades": dict.fromkeys(COMMENT_SUBJECTS, "dat"),
        "learning_level": "tot",
    }
    assert results_by_learner[BINH]["learning_level"] == "dat"
    assert results_by_learner[BINH]["comment_grades"]["gdtc"] == "chua_dat"
    assert results_by_learner[BINH]["subject_averages"]["toan"] == 6.4

    # Locked: a plain change is refused, naming the term and the missing reason.
    problem = await expect_problem(
        409,
        record(conn, learner_id=BINH, subject_code="toan", assessment="end_term", score=8),
    )
    assert CLASS_6A in (problem.detail or "") and "finalized" in (problem.detail or "")
    assert "body.reason" in fields_of(problem)
    # A correction with a reason is recorded, audited and published with `corrects`.
    original = await conn.fetchval(
        "SELECT entry_id FROM grade_entries WHERE learner_id = $1 AND subject_code = 'toan' "
        "AND assessment = 'end_term' AND superseded_by IS NULL",
        BINH,
    )
    corrected = await record(
        conn,
        SCHOOL,
        learner_id=BINH,
        subject_code="toan",
        assessment="end_term",
        score=8,
        reason="Nhập nhầm điểm bài kiểm tra cuối kì (biên bản số 12)",
    )
    assert corrected["corrects"] == str(original)
    grade_events = await events(conn, "records.grade.recorded")
    assert grade_events[-1]["corrects"] == str(original)
    assert grade_events[-1]["reason"].startswith("Nhập nhầm")
    assert grade_events[-1]["score"] == 8.0
    correction = await conn.fetchrow("SELECT * FROM grade_corrections")
    assert (correction["value_before"], correction["value_after"]) == ("7.0", "8.0")
    assert correction["actor"] == SCHOOL.subject and correction["corrects"] == original
    assert json.loads(json.dumps(correction["changes"])) == [
        {"field": "end_term", "before": "7.0", "after": "8.0"}
    ]
    assert (await audit(conn, BINH, "correct"))[0]["actor"] == SCHOOL.subject
    superseded_by = await conn.fetchval(
        "SELECT superseded_by FROM grade_entries WHERE entry_id = $1", original
    )
    assert str(superseded_by) == corrected["entry_id"]
    # (24 + 13 + 24) / 9 = 6.78 -> 6.8, and the term stays finalised.
    binh = by_learner(await results(conn, 1))[BINH]
    assert averages(binh)["toan"] == 6.8
    # The corrected term is published again, so subscribers replace the old figures.
    first, republished = await events(conn, "records.term.finalized")
    assert first["results"] == event["results"]
    republished_binh = {r["learner_id"]: r for r in republished["results"]}[BINH]
    assert republished_binh["subject_averages"]["toan"] == 6.8
    assert republished["semester"] == 1
    gradebook = await tx(
        conn,
        lambda c: handlers.class_gradebook(
            c, TEACHER, CLASS_6A, school_id="S-A", school_year=YEAR, semester=1
        ),
    )
    assert gradebook.term.status == "finalized"
    assert [c.reason for c in gradebook.corrections] == [corrected["reason"]]
    entries = {e.learner_id: e.entries for e in gradebook.learners}
    # Five scored subjects with 4 regular, three with 2, five comment subjects with 2; + mid, end.
    assert len(entries[AN]) == 5 * (4 + 2) + 3 * (2 + 2) + 5 * (2 + 2)
    assert (await audit(conn, AN, "read"))[-1]["detail"]["what"] == "gradebook"
    # A correction that changes nothing, or finalising twice, is a conflict.
    await expect_problem(
        409,
        record(
            conn,
            SCHOOL,
            learner_id=BINH,
            subject_code="toan",
            assessment="end_term",
            score=8,
            reason="again",
        ),
    )
    await expect_problem(409, finalize(conn, 1))
    assert len(await events(conn, "records.term.finalized")) == 2  # the first and the corrected


async def test_year_results_and_transcript_pdf(conn):
    await enrol(conn, AN, "S-A", CLASS_6A, 6)
    await fill_semester(conn, AN, 1, AN_SEMESTER_1)
    await fill_semester(conn, AN, 2, AN_SEMESTER_2)
    await expect_problem(409, finalize(conn, 0))  # the year waits for both semesters
    await finalize(conn, 1)
    await finalize(conn, 2)
    year = await finalize(conn, 0)
    an = year["learners"][0]
    year_averages = {s["subject_code"]: s["average"] for s in an["subjects"] if s["average"]}
    # (8.4 + 2 * 9.3) / 3 = 9.0; the others are equal in both semesters.
    assert year_averages == AN_AVERAGES_1 | {"toan": 9.0}
    assert an["learning_level"] == "tot"
    year_event = (await events(conn, "records.term.finalized"))[-1]
    assert year_event["semester"] == 0
    assert year_event["results"][0]["subject_averages"]["toan"] == 9.0

    data = await tx(conn, lambda c: handlers.transcript_data(c, TEACHER, AN, YEAR, now=NOW))
    assert data.school_name == "Trường THCS Hồng Bàng"
    assert data.parent_names == ("Phường Hồng Bàng", "Thành phố Hải Phòng")
    assert data.class_name == "6A"
    toan = next(row for row in data.rows if row.subject == "Toán")
    assert (toan.first, toan.second, toan.year) == ("8,4", "9,3", "9,0")
    assert data.levels == ("Tốt", "Tốt", "Tốt")
    assert data.finalized == (True, True, True)
    assert (await audit(conn, AN, "read"))[-1]["detail"]["what"] == "transcript"

    pdf = transcript.render_pdf(data)
    assert pdf.startswith(b"%PDF")
    pypdf = pytest.importorskip(
        "pypdf", reason="pypdf is not installed: the PDF's text cannot be extracted to check it"
    )
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    text = re.sub(r"\s+", " ", text)
    for expected in (
        "HỌC BẠ",
        "Ngữ văn",
        "Ngoại ngữ 1",
        "Lịch sử và Địa lí",
        "Khoa học tự nhiên",
        "Giáo dục công dân",
        "Giáo dục thể chất",
        "Nội dung giáo dục của địa phương",
        "Trường THCS Hồng Bàng",
        "Kết quả học tập",
        "Tốt",
        "Đạt",
        "8,3",
    ):
        assert expected in text, f"{expected!r} not in the PDF text: {text[:400]}"

    # Another school's head cannot tell whether the learner has a transcript at all.
    await expect_problem(
        404, tx(conn, lambda c: handlers.transcript_data(c, OTHER_SCHOOL, AN, YEAR, now=NOW))
    )


async def test_finalise_refused_while_assessments_are_missing(conn):
    await enrol(conn, AN, "S-A", CLASS_6A, 6)
    await enrol(conn, BINH, "S-A", CLASS_6A, 6)
    an_incomplete: Scores = {**AN_SEMESTER_1, "toan": ([8, 9], 8, 9)}
    await fill_semester(conn, AN, 1, an_incomplete)
    # Bình has nothing at all in Khoa học tự nhiên, and no end-term in Tin học.
    binh = {k: v for k, v in BINH_SEMESTER_1.items() if k != "khoa_hoc_tu_nhien"}
    await fill_semester(conn, BINH, 1, binh)
    await conn.execute(
        "DELETE FROM grade_entries WHERE learner_id = $1 AND subject_code = 'tin_hoc' "
        "AND assessment = 'end_term'",
        BINH,
    )

    problem = await expect_problem(409, finalize(conn, 1))
    errors = [(e["field"], e["message"]) for e in problem.errors or []]
    assert errors == [
        ("learners.L-AN.toan", "learner L-AN, Toán (toan): regular: 2 recorded, 4 required"),
        (
            "learners.L-BINH.khoa_hoc_tu_nhien",
            "learner L-BINH, Khoa học tự nhiên (khoa_hoc_tu_nhien): "
            "regular: 0 recorded, 4 required",
        ),
        (
            "learners.L-BINH.khoa_hoc_tu_nhien",
            "learner L-BINH, Khoa học tự nhiên (khoa_hoc_tu_nhien): mid_term: not recorded",
        ),
        (
            "learners.L-BINH.khoa_hoc_tu_nhien",
            "learner L-BINH, Khoa học tự nhiên (khoa_hoc_tu_nhien): end_term: not recorded",
        ),
        ("learners.L-BINH.tin_hoc", "learner L-BINH, Tin học (tin_hoc): end_term: not recorded"),
    ]
    assert "5 assessments are missing for 2 learners" in (problem.detail or "")
    assert await events(conn, "records.term.finalized") == []
    # While open, the results say what is missing and give no level.
    an = by_learner(await results(conn, 1))[AN]
    assert an.learning_level is None
    assert averages(an)["toan"] is None and averages(an)["ngu_van"] == 8.3

    # Force needs a reason; with one, the term locks and the gaps are kept with it.
    problem = await expect_problem(422, finalize(conn, 1, force=True))
    assert list(fields_of(problem)) == ["body.reason"]
    forced = await finalize(conn, 1, force=True, reason="Học sinh nghỉ ốm dài ngày")
    assert forced["term"]["forced_reason"] == "Học sinh nghỉ ốm dài ngày"
    assert len(forced["term"]["missing"]) == 5
    (event,) = await events(conn, "records.term.finalized")
    an_result = next(r for r in event["results"] if r["learner_id"] == AN)
    assert an_result["learning_level"] is None
    assert an_result["subject_averages"]["toan"] is None
    assert an_result["subject_averages"]["ngu_van"] == 8.3
    # A missing assessment can still be added afterwards, as a reasoned correction.
    added = await record(
        conn,
        SCHOOL,
        learner_id=AN,
        subject_code="toan",
        assessment="regular",
        sequence=3,
        score=8,
        reason="Bổ sung điểm kiểm tra thường xuyên",
    )
    assert added["corrects"] is None
    assert await conn.fetchval("SELECT value_before FROM grade_corrections") is None


# --- validation -----------------------------------------------------------------------------------


async def test_validation_errors_name_field_and_rule(conn):
    await enrol(conn, AN, "S-A", CLASS_6A, 6)
    await enrol(conn, CUONG, "S-P", CLASS_4B, 4)
    an: dict[str, Any] = {"learner_id": AN}

    async def invalid(principal: Principal = TEACHER, **fields: Any) -> dict[str, dict[str, str]]:
        return fields_of(await expect_problem(422, record(conn, principal, **fields)))

    errors = await invalid(**an, subject_code="toan", assessment="mid_term", score=10.5)
    assert errors["body.score"]["type"] == "range"
    errors = await invalid(**an, subject_code="toan", assessment="mid_term", score=7.25)
    assert errors["body.score"]["type"] == "one_decimal"
    assert "7.25" in errors["body.score"]["message"]
    errors = await invalid(**an, subject_code="toan", assessment="mid_term", score="bảy")
    assert errors["body.score"]["type"] == "number"
    errors = await invalid(**an, subject_code="toan", assessment="mid_term")
    assert errors["body.score"]["type"] == "missing"
    # Every invalid field at once: a comment subject given a score and no grade.
    errors = await invalid(**an, subject_code="gdtc", assessment="end_term", score=8)
    assert (errors["body.score"]["type"], errors["body.comment_grade"]["type"]) == (
        "not_allowed",
        "missing",
    )
    errors = await invalid(**an, subject_code="gdtc", assessment="end_term", comment_grade="Tốt")
    assert errors["body.comment_grade"]["type"] == "comment"
    errors = await invalid(**an, subject_code="gdcd", assessment="regular", sequence=3, score=8)
    assert "2 regular assessments" in errors["body.sequence"]["message"]
    errors = await invalid(**an, subject_code="mon_la", assessment="regular", score=8)
    assert "not a subject of grade 6" in errors["body.subject_code"]["message"]
    errors = await invalid(learner_id=BINH, subject_code="toan", assessment="regular", score=8)
    assert f"not enrolled in class {CLASS_6A}" in errors["body.learner_id"]["message"]
    errors = await invalid(**an, subject_code="toan", assessment="level", level="Hoàn thành")
    assert errors["body.assessment"]["type"] == "assessment_kind"
    # The Vietnamese decimal comma and decomposed Unicode are accepted.
    accepted = await record(conn, **an, subject_code="toan", assessment="regular", score="7,5")
    assert accepted["score"] == 7.5
    accepted = await record(
        conn,
        **an,
        subject_code="gdtc",
        assessment="regular",
        comment_grade=unicodedata.normalize("NFD", "Chưa đạt"),
    )
    assert accepted["comment_grade"] == "chua_dat"

    # Primary (Circular 27): levels and whole-number periodic tests 1-10.
    primary: dict[str, Any] = {
        "principal": PRIMARY_TEACHER,
        "learner_id": CUONG,
        "school_id": "S-P",
        "class_id": CLASS_4B,
    }
    errors = await invalid(**primary, subject_code="toan", assessment="level", level="Giỏi")
    assert errors["body.level"]["type"] == "level"
    errors = await invalid(**primary, subject_code="toan", assessment="periodic_test", score=0)
    assert errors["body.score"]["type"] == "range"
    errors = await invalid(
        **primary, subject_code="toan", assessment="periodic_test", sequence=2, score=7.5
    )
    assert errors["body.score"]["type"] == "whole_number"
    errors = await invalid(**primary, subject_code="dao_duc", assessment="periodic_test", score=9)
    assert errors["body.assessment"]["type"] == "no_periodic_test"
    errors = await invalid(**primary, subject_code="toan", assessment="end_term", score=9)
    assert errors["body.assessment"]["type"] == "assessment_kind"
    errors = await invalid(
        **primary, subject_code="toan", assessment="level", sequence=3, level="T"
    )
    assert errors["body.sequence"]["type"] == "sequence"
    assert await events(conn, "records.grade.recorded") != []  # only the accepted ones
    assert len(await events(conn, "records.grade.recorded")) == 2


# --- primary --------------------------------------------------------------------------------------

PRIMARY_GRADE_4 = (
    "tieng_viet", "toan", "ngoai_ngu", "dao_duc", "khoa_hoc", "lich_su_dia_ly",
    "tin_hoc_cong_nghe", "gdtc", "am_nhac", "my_thuat", "hdtn",
)  # fmt: skip
PRIMARY_TESTS = {"tieng_viet", "toan", "ngoai_ngu", "khoa_hoc", "lich_su_dia_ly",
                 "tin_hoc_cong_nghe"}  # fmt: skip


async def test_primary_levels_tests_and_finalisation(conn):
    await enrol(conn, CUONG, "S-P", CLASS_4B, 4)
    where: dict[str, Any] = {"learner_id": CUONG, "school_id": "S-P", "class_id": CLASS_4B}
    for subject in PRIMARY_GRADE_4:
        common = {**where, "subject_code": subject}
        end = "Hoàn thành tốt" if subject in ("toan", "tieng_viet") else "hoan_thanh"
        await record(conn, PRIMARY_TEACHER, **common, assessment="level", sequence=1, level="H")
        await record(conn, PRIMARY_TEACHER, **common, assessment="level", sequence=2, level=end)
        if subject in PRIMARY_TESTS:
            score = {"toan": 9, "tieng_viet": "10"}.get(subject, 8)
            await record(
                conn,
                PRIMARY_TEACHER,
                **common,
                assessment="periodic_test",
                sequence=2,
                score=score,
            )
    command = FinalizeCommand(school_id="S-P", school_year=YEAR, semester=1)
    done = await tx(
        conn, lambda c: handlers.finalize_term(c, PRIMARY_SCHOOL, CLASS_4B, command, now=NOW)
    )
    (cuong,) = done["learners"]
    subjects = {s["subject_code"]: s for s in cuong["subjects"]}
    assert list(subjects) == list(PRIMARY_GRADE_4)
    assert (subjects["toan"]["level"], subjects["toan"]["test_score"]) == ("hoan_thanh_tot", 9)
    assert subjects["tieng_viet"]["test_score"] == 10
    assert (subjects["dao_duc"]["level"], subjects["dao_duc"]["test_score"]) == ("hoan_thanh", None)
    assert cuong["learning_level"] is None  # Circular 27 has no Tốt/Khá/Đạt levels
    (event,) = await events(conn, "records.term.finalized")
    assert event["grade"] == 4
    # LearnerTermResult v1 has no field for primary subject levels: only the learner is named.
    assert event["results"] == [
        {"learner_id": CUONG, "subject_averages": {}, "comment_grades": {}, "learning_level": None}
    ]
    data = await tx(conn, lambda c: handlers.transcript_data(c, PRIMARY_SCHOOL, CUONG, YEAR,
                                                              now=NOW))  # fmt: skip
    toan = next(row for row in data.rows if row.subject == "Toán")
    assert toan.first == "Hoàn thành tốt (9)"
    assert transcript.render_pdf(data).startswith(b"%PDF")


# --- scope ----------------------------------------------------------------------------------------


async def test_a_school_cannot_touch_another_schools_gradebook(conn):
    await enrol(conn, AN, "S-A", CLASS_6A, 6)
    grade = {"learner_id": AN, "subject_code": "toan", "assessment": "regular", "score": 8}
    with pytest.raises(AuthorisationError, match="S-A is outside the scope of school S-B"):
        await record(conn, OTHER_SCHOOL, **grade)
    with pytest.raises(AuthorisationError):
        await record(conn, Principal("gv-b", "teacher", "S-B"), **grade)
    with pytest.raises(AuthorisationError):
        await results(conn, 1, OTHER_SCHOOL)
    with pytest.raises(AuthorisationError):
        await finalize(conn, 1, OTHER_SCHOOL)
    # Teachers record but do not finalise; the Department reads but does not keep gradebooks.
    with pytest.raises(AuthorisationError, match="role 'teacher'"):
        await finalize(conn, 1, TEACHER)
    with pytest.raises(AuthorisationError, match="role 'department'"):
        await record(conn, DEPARTMENT, **grade)
    await record(conn, TEACHER, **grade)
    assert by_learner(await results(conn, 1, DEPARTMENT))[AN].learning_level is None
    assert await conn.fetchval("SELECT count(*) FROM grade_entries") == 1


# --- the HTTP routes, in process (the service's app mounts them once the lead wires the router) ---


class _TokenIsPrincipal:
    """Stands in for the JWT verifier: the bearer token is "role:org:subject"."""

    def verify(self, token: str) -> Principal:
        role, org, subject = token.split(":")
        return Principal(subject, role, org)


async def test_http_routes(fresh_db):
    import httpx
    from fastapi import FastAPI

    from services.records.gradebook.api import router
    from shared.http.problems import install_problem_handlers

    pool = await create_pool(fresh_db, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await migrate(connection, "records", Path("services/records/migrations"))
        await add_orgs(connection)
        await enrol(connection, AN, "S-A", CLASS_6A, 6)
    app = FastAPI()
    app.include_router(router)
    install_problem_handlers(app)
    app.state.context = type("Context", (), {"pool": pool, "verifier": _TokenIsPrincipal()})()
    transport = httpx.ASGITransport(app=app)

    def client(token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport,
            base_url="http://records",
            headers={"Authorization": f"Bearer {token}"},
        )

    grade = {
        "learner_id": AN, "school_id": "S-A", "class_id": CLASS_6A, "school_year": YEAR,
        "semester": 1, "subject_code": "toan", "assessment": "regular", "score": "8,5",
    }  # fmt: skip
    try:
        async with client("teacher:S-A:gv-lan") as teacher, client("school:S-B:ht-b") as other:
            missing_key = await teacher.post("/gradebook/grades", json=grade)
            assert missing_key.status_code == 400
            key = {"Idempotency-Key": "k-1"}
            first = await teacher.post("/gradebook/grades", json=grade, headers=key)
            assert first.status_code == 201, first.text
            again = await teacher.post("/gradebook/grades", json=grade, headers=key)
            assert again.headers["Idempotency-Replayed"] == "true"
            assert again.json() == first.json()
            bad = await teacher.post(
                "/gradebook/grades", json=grade | {"score": 11}, headers={"Idempotency-Key": "k2"}
            )
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"] == "body.score"
            params: dict[str, Any] = {"school_id": "S-A", "school_year": YEAR, "semester": 1}
            book = await teacher.get(f"/gradebook/classes/{CLASS_6A}", params=params)
            assert book.status_code == 200, book.text
            assert book.json()["learners"][0]["entries"][0]["score"] == 8.5
            results = await teacher.get(f"/gradebook/classes/{CLASS_6A}/results", params=params)
            assert results.json()["learners"][0]["learning_level"] is None
            subjects = await teacher.get("/gradebook/subjects", params={"grade": 8})
            cong_nghe = next(s for s in subjects.json() if s["subject_code"] == "cong_nghe")
            assert (cong_nghe["periods_per_year"], cong_nghe["required_regular"]) == (52, 3)
            refused = await teacher.post(
                f"/gradebook/classes/{CLASS_6A}/finalizations",
                json={"school_id": "S-A", "school_year": YEAR, "semester": 1},
                headers={"Idempotency-Key": "k3"},
            )
            assert refused.status_code == 403  # teachers do not finalise
            pdf = await teacher.get(f"/gradebook/transcripts/{AN}/{YEAR}.pdf")
            assert pdf.status_code == 200, pdf.text
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.content.startswith(b"%PDF")
            assert (
                await other.get(f"/gradebook/classes/{CLASS_6A}", params=params)
            ).status_code == 403
            hidden = await other.get(f"/gradebook/transcripts/{AN}/{YEAR}.pdf")
            assert hidden.status_code == 404
    finally:
        await pool.close()
