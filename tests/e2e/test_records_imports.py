"""Bulk imports of school data over real HTTP: classes, enrolments and scores from
spreadsheets, a result per row, acknowledgement events, and re-running changes nothing."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from shared.tests.support import read_topic
from tests.e2e.support import enrolled, new_school, wait_for

pytestmark = pytest.mark.e2e
YEAR = "2025-2026"


def sheet(columns: list[str], rows: list[list[str]], delimiter: str = ";") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def post_file(api, url: str, content: bytes):
    return api.post(url, content=content, headers={"Content-Type": "text/csv"})


async def test_classes_enrolments_and_scores_from_spreadsheets(platform, kafka):
    with platform.client() as api:
        _, school = new_school(platform, api)
        records = platform.url("records")
        classes = sheet(
            ["school_id", "school_year", "grade", "name"],
            [
                [school, YEAR, "6", "6A"],
                [school, YEAR, "7", "7A"],
                [school, YEAR, "3", "3A"],  # a lower-secondary school does not teach grade 3
            ],
        )
        result = post_file(api, f"{records}/imports/class", classes)
        assert result.status_code == 201, result.text
        summary = result.json()
        assert (summary["accepted"], summary["rejected"]) == (2, 1)
        assert "does not teach grade 3" in json.dumps(summary["rejections"])

        learners = [f"IMP-{uuid.uuid4().hex[:8]}" for _ in range(3)]
        enrolments = sheet(
            ["learner_id", "school_id", "school_year", "grade", "class_id", "sex", "enrolled_on"],
            [
                [learners[0], school, YEAR, "6", f"{school}:{YEAR}:6A", "Nữ", "05/09/2025"],
                [learners[1], school, YEAR, "6", f"{school}:{YEAR}:6A", "Nam", "2025-09-05"],
                [learners[2], "S-NOWHERE", YEAR, "6", "", "Nam", "2025-09-05"],
            ],
        )
        result = post_file(api, f"{records}/imports/enrolment", enrolments)
        assert result.status_code == 201, result.text
        summary = result.json()
        assert (summary["accepted"], summary["rejected"]) == (2, 1)
        import_id = summary["import_id"]
        wait_for(lambda: enrolled(platform, api, school) == 2)

        # The result file names every row's outcome.
        rows = list(
            csv.DictReader(
                io.StringIO(
                    api.get(f"{records}/imports/{import_id}/result.csv").text.lstrip("\ufeff")
                )
            )
        )
        assert [r["outcome"] for r in rows] == ["accepted", "accepted", "rejected"]
        assert "unknown school S-NOWHERE" in rows[2]["errors"]

        # Running the same file again changes nothing and publishes no enrolment.
        again = post_file(api, f"{records}/imports/enrolment", enrolments).json()
        assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 2, 1)

        scores = sheet(
            [
                "learner_id",
                "school_id",
                "class_id",
                "school_year",
                "semester",
                "subject_code",
                "assessment",
                "sequence",
                "score",
            ],
            [
                [
                    learners[0],
                    school,
                    f"{school}:{YEAR}:6A",
                    YEAR,
                    "1",
                    "toan",
                    "regular",
                    "1",
                    "8,5",
                ],
                [
                    learners[0],
                    school,
                    f"{school}:{YEAR}:6A",
                    YEAR,
                    "1",
                    "toan",
                    "mid_term",
                    "1",
                    "11",
                ],
            ],
        )
        assert post_file(api, f"{records}/imports/score", scores).status_code == 403
    with platform.client(role="school", org=school) as school_api:
        result = post_file(school_api, f"{records}/imports/score", scores).json()
        assert (result["accepted"], result["rejected"]) == (1, 1), result["rejections"]
        again = post_file(school_api, f"{records}/imports/score", scores).json()
        assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 1, 1)

    acks = await read_topic(
        kafka.bootstrap_servers, "records.record.acknowledged", expect=100_000, within=5
    )
    ours = [json.loads(r.value)["data"] for r in acks if r.key == import_id.encode()]
    assert [(a["row_number"], a["outcome"]) for a in ours] == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "rejected"),
    ]
    assert ours[2]["errors"] and "S-NOWHERE" in ours[2]["errors"][0]
