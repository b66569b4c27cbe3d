-- Teachers as the teacher-shortage forecast needs them, kept from records.staff.updated
-- (newest records revision wins, so duplicate and out-of-order deliveries change nothing).
-- Every position is kept; the forecast counts position 'teacher' only.
CREATE TABLE forecast_teachers (
    staff_id        text PRIMARY KEY,
    revision        integer NOT NULL,
    school_id       text NOT NULL,
    position        text NOT NULL,
    subjects        text[] NOT NULL DEFAULT '{}',   -- the first is the main subject
    birth_date      date NOT NULL,
    sex             text NOT NULL CHECK (sex IN ('male', 'female')),
    employed_from   date NOT NULL,
    employed_until  date
);
CREATE INDEX forecast_teachers_school ON forecast_teachers (school_id);

-- The forecast reads enrolment by school year, school and grade from the placements.
CREATE INDEX learner_placement_year_school ON learner_placement (school_year, school_id, grade)
    WHERE school_id IS NOT NULL;
