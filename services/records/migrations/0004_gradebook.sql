-- Electronic gradebook (Circular 22/2021/TT-BGDĐT for secondary, 27/2020/TT-BGDĐT for primary).

-- Subjects of each grade with their periods per year (General Education Program 2018) and how
-- they are assessed: 'score' (0-10, one decimal), 'comment' (Đạt / Chưa đạt) or 'level'
-- (primary: Hoàn thành tốt / Hoàn thành / Chưa hoàn thành). The figures are DOMAIN.md's
-- summary of the programme, written from secondary sources: check against Circular
-- 32/2018/TT-BGDĐT (as amended) before relying on them.
CREATE TABLE gradebook_subjects (
    grade             smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
    subject_code      text NOT NULL,
    name_vi           text NOT NULL,
    periods_per_year  integer NOT NULL CHECK (periods_per_year > 0),
    scale             text NOT NULL CHECK (scale IN ('score', 'comment', 'level')),
    -- Primary only: the subject has periodic tests scored 1-10 (Circular 27 Art. 7; check).
    periodic_test     boolean NOT NULL DEFAULT false,
    -- Upper secondary electives are only required of a class that takes them.
    compulsory        boolean NOT NULL DEFAULT true,
    display_order     smallint NOT NULL,
    source            text NOT NULL DEFAULT 'Program 2018 per DOMAIN.md; check',
    PRIMARY KEY (grade, subject_code),
    CHECK ((scale = 'level') = (grade <= 5)),
    CHECK (NOT periodic_test OR scale = 'level')
);

-- Lower secondary (grades 6-9). Arts (70) is recorded as Âm nhạc and Mỹ thuật, 35 each, as
-- schools keep them in separate columns (check).
INSERT INTO gradebook_subjects
    (grade, subject_code, name_vi, periods_per_year, scale, display_order)
SELECT g.grade, s.code, s.name, COALESCE(s.periods, g.technology), s.scale, s.display_order
FROM (VALUES (6, 35), (7, 35), (8, 52), (9, 52)) AS g (grade, technology)
CROSS JOIN (VALUES
    ('ngu_van', 'Ngữ văn', 140, 'score', 1),
    ('toan', 'Toán', 140, 'score', 2),
    ('ngoai_ngu', 'Ngoại ngữ 1', 105, 'score', 3),
    ('gdcd', 'Giáo dục công dân', 35, 'score', 4),
    ('lich_su_dia_ly', 'Lịch sử và Địa lí', 105, 'score', 5),
    ('khoa_hoc_tu_nhien', 'Khoa học tự nhiên', 140, 'score', 6),
    ('cong_nghe', 'Công nghệ', NULL, 'score', 7),
    ('tin_hoc', 'Tin học', 35, 'score', 8),
    ('gdtc', 'Giáo dục thể chất', 70, 'comment', 9),
    ('am_nhac', 'Âm nhạc', 35, 'comment', 10),
    ('my_thuat', 'Mỹ thuật', 35, 'comment', 11),
    ('hdtn', 'Hoạt động trải nghiệm, hướng nghiệp', 105, 'comment', 12),
    ('gddp', 'Nội dung giáo dục của địa phương', 35, 'comment', 13)
) AS s (code, name, periods, scale, display_order);

-- Upper secondary (grades 10-12): compulsory subjects and electives of 70 periods each.
-- DOMAIN.md gives only "electives 70 each, History 52"; the rest is from memory (check).
INSERT INTO gradebook_subjects
    (grade, subject_code, name_vi, periods_per_year, scale, compulsory, display_order)
SELECT g.grade, s.code, s.name, s.periods, s.scale, s.compulsory, s.display_order
FROM (VALUES (10), (11), (12)) AS g (grade)
CROSS JOIN (VALUES
    ('ngu_van', 'Ngữ văn', 105, 'score', true, 1),
    ('toan', 'Toán', 105, 'score', true, 2),
    ('ngoai_ngu', 'Ngoại ngữ 1', 105, 'score', true, 3),
    ('lich_su', 'Lịch sử', 52, 'score', true, 4),
    ('qpan', 'Giáo dục quốc phòng và an ninh', 35, 'score', true, 5),
    ('dia_ly', 'Địa lí', 70, 'score', false, 6),
    ('gdktpl', 'Giáo dục kinh tế và pháp luật', 70, 'score', false, 7),
    ('vat_ly', 'Vật lí', 70, 'score', false, 8),
    ('hoa_hoc', 'Hoá học', 70, 'score', false, 9),
    ('sinh_hoc', 'Sinh học', 70, 'score', false, 10),
    ('cong_nghe', 'Công nghệ', 70, 'score', false, 11),
    ('tin_hoc', 'Tin học', 70, 'score', false, 12),
    ('am_nhac', 'Âm nhạc', 70, 'comment', false, 13),
    ('my_thuat', 'Mỹ thuật', 70, 'comment', false, 14),
    ('gdtc', 'Giáo dục thể chất', 70, 'comment', true, 15),
    ('hdtn', 'Hoạt động trải nghiệm, hướng nghiệp', 105, 'comment', true, 16),
    ('gddp', 'Nội dung giáo dục của địa phương', 35, 'comment', true, 17)
) AS s (code, name, periods, scale, compulsory, display_order);

-- Primary (grades 1-5), every subject judged by level; periodic tests in the subjects Circular
-- 27 Art. 7 names (from memory, check). Periods beyond Tiếng Việt, Toán, Ngoại ngữ, GDTC and
-- Arts are not in DOMAIN.md (check).
INSERT INTO gradebook_subjects
    (grade, subject_code, name_vi, periods_per_year, scale, periodic_test, display_order)
SELECT s.grade, s.code, s.name, s.periods, 'level', s.test, s.display_order
FROM (VALUES
    (1, 'tieng_viet', 'Tiếng Việt', 420, true, 1), (2, 'tieng_viet', 'Tiếng Việt', 350, true, 1),
    (3, 'tieng_viet', 'Tiếng Việt', 245, true, 1), (4, 'tieng_viet', 'Tiếng Việt', 245, true, 1),
    (5, 'tieng_viet', 'Tiếng Việt', 245, true, 1),
    (1, 'toan', 'Toán', 105, true, 2), (2, 'toan', 'Toán', 175, true, 2),
    (3, 'toan', 'Toán', 175, true, 2), (4, 'toan', 'Toán', 175, true, 2),
    (5, 'toan', 'Toán', 175, true, 2),
    (3, 'ngoai_ngu', 'Ngoại ngữ 1', 140, true, 3), (4, 'ngoai_ngu', 'Ngoại ngữ 1', 140, true, 3),
    (5, 'ngoai_ngu', 'Ngoại ngữ 1', 140, true, 3),
    (1, 'dao_duc', 'Đạo đức', 35, false, 4), (2, 'dao_duc', 'Đạo đức', 35, false, 4),
    (3, 'dao_duc', 'Đạo đức', 35, false, 4), (4, 'dao_duc', 'Đạo đức', 35, false, 4),
    (5, 'dao_duc', 'Đạo đức', 35, false, 4),
    (1, 'tu_nhien_xa_hoi', 'Tự nhiên và Xã hội', 70, false, 5),
    (2, 'tu_nhien_xa_hoi', 'Tự nhiên và Xã hội', 70, false, 5),
    (3, 'tu_nhien_xa_hoi', 'Tự nhiên và Xã hội', 70, false, 5),
    (4, 'khoa_hoc', 'Khoa học', 70, true, 6), (5, 'khoa_hoc', 'Khoa học', 70, true, 6),
    (4, 'lich_su_dia_ly', 'Lịch sử và Địa lí', 70, true, 7),
    (5, 'lich_su_dia_ly', 'Lịch sử và Địa lí', 70, true, 7),
    (3, 'tin_hoc_cong_nghe', 'Tin học và Công nghệ', 70, true, 8),
    (4, 'tin_hoc_cong_nghe', 'Tin học và Công nghệ', 70, true, 8),
    (5, 'tin_hoc_cong_nghe', 'Tin học và Công nghệ', 70, true, 8),
    (1, 'gdtc', 'Giáo dục thể chất', 70, false, 9), (2, 'gdtc', 'Giáo dục thể chất', 70, false, 9),
    (3, 'gdtc', 'Giáo dục thể chất', 70, false, 9), (4, 'gdtc', 'Giáo dục thể chất', 70, false, 9),
    (5, 'gdtc', 'Giáo dục thể chất', 70, false, 9),
    (1, 'am_nhac', 'Âm nhạc', 35, false, 10), (2, 'am_nhac', 'Âm nhạc', 35, false, 10),
    (3, 'am_nhac', 'Âm nhạc', 35, false, 10), (4, 'am_nhac', 'Âm nhạc', 35, false, 10),
    (5, 'am_nhac', 'Âm nhạc', 35, false, 10),
    (1, 'my_thuat', 'Mỹ thuật', 35, false, 11), (2, 'my_thuat', 'Mỹ thuật', 35, false, 11),
    (3, 'my_thuat', 'Mỹ thuật', 35, false, 11), (4, 'my_thuat', 'Mỹ thuật', 35, false, 11),
    (5, 'my_thuat', 'Mỹ thuật', 35, false, 11),
    (1, 'hdtn', 'Hoạt động trải nghiệm', 105, false, 12),
    (2, 'hdtn', 'Hoạt động trải nghiệm', 105, false, 12),
    (3, 'hdtn', 'Hoạt động trải nghiệm', 105, false, 12),
    (4, 'hdtn', 'Hoạt động trải nghiệm', 105, false, 12),
    (5, 'hdtn', 'Hoạt động trải nghiệm', 105, false, 12)
) AS s (grade, code, name, periods, test, display_order);

-- One row per assessment as recorded. Rows are never updated in place except to point
-- `superseded_by` at their replacement, so the history of every value stays readable.
-- Slots: secondary 'regular' (sequence 1..n), 'mid_term' and 'end_term' (sequence 1), holding
-- a score or, for comment subjects, a comment grade; primary 'level' and 'periodic_test' with
-- sequence 1 = mid-semester and 2 = end of semester (end of year in semester 2).
CREATE TABLE grade_entries (
    entry_id       uuid PRIMARY KEY,
    learner_id     text NOT NULL,
    school_id      text NOT NULL,
    class_id       text NOT NULL,
    school_year    text NOT NULL,
    semester       smallint NOT NULL CHECK (semester IN (1, 2)),
    subject_code   text NOT NULL,
    assessment     text NOT NULL
        CHECK (assessment IN ('regular', 'mid_term', 'end_term', 'level', 'periodic_test')),
    sequence       smallint NOT NULL DEFAULT 1 CHECK (sequence BETWEEN 1 AND 10),
    score          numeric(3, 1) CHECK (score BETWEEN 0 AND 10),
    comment_grade  text CHECK (comment_grade IN ('dat', 'chua_dat')),
    level          text CHECK (level IN ('hoan_thanh_tot', 'hoan_thanh', 'chua_hoan_thanh')),
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    -- Deferred: the old row is pointed at its replacement just before the replacement is
    -- inserted, so that the one-current-value-per-slot index holds at every statement.
    superseded_by  uuid REFERENCES grade_entries (entry_id) DEFERRABLE INITIALLY DEFERRED,
    corrects       uuid REFERENCES grade_entries (entry_id),
    reason         text,
    CHECK (num_nonnulls(score, comment_grade, level) = 1)
);
-- At most one current value per slot; replacing one supersedes it in the same transaction.
CREATE UNIQUE INDEX grade_entries_current_slot
    ON grade_entries (learner_id, school_id, class_id, school_year, semester, subject_code,
                      assessment, sequence)
    WHERE superseded_by IS NULL;
CREATE INDEX grade_entries_class_term
    ON grade_entries (school_id, class_id, school_year, semester) WHERE superseded_by IS NULL;
CREATE INDEX grade_entries_learner_year ON grade_entries (learner_id, school_year);

-- Term state per class: semester 1 or 2, or 0 for the whole year (finalised after both).
-- Writers lock this row, so a grade cannot slip into a term while it is being finalised.
CREATE TABLE gradebook_terms (
    school_id     text NOT NULL,
    class_id      text NOT NULL,
    school_year   text NOT NULL,
    semester      smallint NOT NULL CHECK (semester IN (0, 1, 2)),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finalized')),
    grade         smallint,
    finalized_at  timestamptz,
    finalized_by  text,
    -- Finalised despite missing assessments: why, and what was missing at the time.
    forced_reason text,
    missing       jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (school_id, class_id, school_year, semester),
    CHECK ((status = 'finalized') = (finalized_at IS NOT NULL AND finalized_by IS NOT NULL))
);

-- Corrections made after finalisation: what changed, who, when and why (Circular 22 keeps
-- finalised results locked; a change needs a reason that can be shown later).
CREATE TABLE grade_corrections (
    correction_id    bigserial PRIMARY KEY,
    entry_id         uuid NOT NULL REFERENCES grade_entries (entry_id),
    corrects         uuid REFERENCES grade_entries (entry_id),
    learner_id       text NOT NULL,
    school_id        text NOT NULL,
    class_id         text NOT NULL,
    school_year      text NOT NULL,
    semester         smallint NOT NULL,
    subject_code     text NOT NULL,
    assessment       text NOT NULL,
    sequence         smallint NOT NULL,
    value_before     text,
    value_after      text NOT NULL,
    reason           text NOT NULL CHECK (btrim(reason) <> ''),
    actor            text NOT NULL,
    actor_role       text NOT NULL,
    actor_org        text NOT NULL,
    at               timestamptz NOT NULL,
    revision_before  integer NOT NULL,
    revision_after   integer NOT NULL,
    -- The domain's field-by-field change list of the learner's subject-semester.
    changes          jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX grade_corrections_learner ON grade_corrections (learner_id, school_year);
CREATE INDEX grade_corrections_class_term
    ON grade_corrections (school_id, class_id, school_year, semester);
