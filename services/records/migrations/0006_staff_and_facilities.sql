-- Staff (teachers, managers and other staff) with what they can teach, their teaching
-- assignments, and each school's facilities with every reported revision.

-- Subjects of the General Education Program 2018 (Circular 32/2018/TT-BGDĐT) that a teacher
-- can teach, by code. Check: the list and the names are from memory of the programme
-- (primary: Tiếng Việt, Toán, Ngoại ngữ 1, Đạo đức, Tự nhiên và Xã hội, Lịch sử và Địa lí,
-- Khoa học, Tin học và Công nghệ, GDTC, Nghệ thuật, HĐTN; lower secondary adds Ngữ văn, GDCD,
-- KHTN, ...; upper secondary has the electives). `mam_non` is not a Program 2018 subject: it
-- stands for the preschool programme so that preschool teachers are counted by subject too.
-- Add codes with a new migration; the table is data, not code.
CREATE TABLE program_subjects (
    subject_code  text PRIMARY KEY CHECK (subject_code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name_vi       text NOT NULL,
    levels        text[] NOT NULL  -- preschool, primary, lower_secondary, upper_secondary
);
INSERT INTO program_subjects (subject_code, name_vi, levels) VALUES
    ('mam_non', 'Giáo dục mầm non', '{preschool}'),
    ('tieng_viet', 'Tiếng Việt', '{primary}'),
    ('toan', 'Toán', '{primary,lower_secondary,upper_secondary}'),
    ('ngu_van', 'Ngữ văn', '{lower_secondary,upper_secondary}'),
    ('ngoai_ngu', 'Ngoại ngữ', '{primary,lower_secondary,upper_secondary}'),
    ('dao_duc', 'Đạo đức', '{primary}'),
    ('tu_nhien_xa_hoi', 'Tự nhiên và Xã hội', '{primary}'),
    ('khoa_hoc', 'Khoa học', '{primary}'),
    ('lich_su_dia_ly', 'Lịch sử và Địa lí', '{primary,lower_secondary}'),
    ('khoa_hoc_tu_nhien', 'Khoa học tự nhiên', '{lower_secondary}'),
    ('gdcd', 'Giáo dục công dân', '{lower_secondary}'),
    ('cong_nghe', 'Công nghệ', '{primary,lower_secondary,upper_secondary}'),
    ('tin_hoc', 'Tin học', '{primary,lower_secondary,upper_secondary}'),
    ('gdtc', 'Giáo dục thể chất', '{primary,lower_secondary,upper_secondary}'),
    ('nghe_thuat', 'Nghệ thuật', '{primary,lower_secondary}'),
    ('am_nhac', 'Âm nhạc', '{primary,lower_secondary,upper_secondary}'),
    ('my_thuat', 'Mĩ thuật', '{primary,lower_secondary,upper_secondary}'),
    ('hdtn', 'Hoạt động trải nghiệm, hướng nghiệp', '{primary,lower_secondary,upper_secondary}'),
    ('gddp', 'Nội dung giáo dục địa phương', '{primary,lower_secondary,upper_secondary}'),
    ('lich_su', 'Lịch sử', '{upper_secondary}'),
    ('dia_ly', 'Địa lí', '{upper_secondary}'),
    ('vat_ly', 'Vật lí', '{upper_secondary}'),
    ('hoa_hoc', 'Hoá học', '{upper_secondary}'),
    ('sinh_hoc', 'Sinh học', '{upper_secondary}'),
    ('gdktpl', 'Giáo dục kinh tế và pháp luật', '{upper_secondary}'),
    ('qpan', 'Giáo dục quốc phòng và an ninh', '{upper_secondary}'),
    ('tieng_dan_toc', 'Tiếng dân tộc thiểu số', '{primary,lower_secondary,upper_secondary}');

-- One row per person working in a school: the current profile. staff_id is the identity
-- sector ID (GV-/NV-...), not checked against identity here. `subjects` are program_subjects
-- codes, the main subject first (checked by the handler: an array cannot carry a foreign key).
CREATE TABLE staff (
    staff_id        text PRIMARY KEY,
    school_id       text NOT NULL,
    position        text NOT NULL
        CHECK (position IN ('teacher', 'principal', 'vice_principal', 'staff')),
    subjects        text[] NOT NULL DEFAULT '{}',
    birth_date      date NOT NULL,
    sex             text NOT NULL CHECK (sex IN ('male', 'female')),
    employed_from   date NOT NULL,
    employed_until  date,
    qualification   text,
    it_skill_level  text CHECK (it_skill_level IN ('basic', 'intermediate', 'advanced')),
    revision        integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (employed_until IS NULL OR employed_until >= employed_from)
);
CREATE INDEX staff_school ON staff (school_id, staff_id);

-- A teacher teaching a subject in a class for a school year, or the class's homeroom teacher
-- (subject_code NULL). Ended assignments stay, inactive.
CREATE TABLE staff_assignments (
    assignment_id     uuid PRIMARY KEY,
    staff_id          text NOT NULL REFERENCES staff (staff_id),
    school_id         text NOT NULL,
    school_year       text NOT NULL,
    class_id          text NOT NULL,
    subject_code      text REFERENCES program_subjects (subject_code),
    role              text NOT NULL CHECK (role IN ('subject_teacher', 'homeroom')),
    periods_per_week  double precision CHECK (periods_per_week BETWEEN 0 AND 40),
    active            boolean NOT NULL DEFAULT true,
    assigned_on       date NOT NULL,
    ended_on          date,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'homeroom') = (subject_code IS NULL))
);
-- At most one active teacher per class, subject and year, and one homeroom teacher per class
-- and year. The handler names the holder; these are the backstop.
CREATE UNIQUE INDEX staff_assignments_one_teacher
    ON staff_assignments (school_id, school_year, class_id, subject_code)
    WHERE active AND role = 'subject_teacher';
CREATE UNIQUE INDEX staff_assignments_one_homeroom
    ON staff_assignments (school_id, school_year, class_id)
    WHERE active AND role = 'homeroom';
CREATE INDEX staff_assignments_school ON staff_assignments (school_id, school_year, assignment_id);
CREATE INDEX staff_assignments_staff ON staff_assignments (staff_id) WHERE active;

-- Every reported revision of a school's facilities; the current one is the highest revision.
CREATE TABLE facilities (
    school_id                text NOT NULL,
    revision                 integer NOT NULL CHECK (revision >= 1),
    classrooms               integer NOT NULL CHECK (classrooms >= 0),
    labs                     integer NOT NULL CHECK (labs >= 0),
    libraries                integer NOT NULL CHECK (libraries >= 0),
    computers_for_learning   integer NOT NULL CHECK (computers_for_learning >= 0),
    internet_bandwidth_mbps  double precision CHECK (internet_bandwidth_mbps >= 0),
    connected                boolean NOT NULL,
    updated_on               date NOT NULL,
    recorded_at              timestamptz NOT NULL DEFAULT now(),
    recorded_by              text NOT NULL,
    PRIMARY KEY (school_id, revision)
);
