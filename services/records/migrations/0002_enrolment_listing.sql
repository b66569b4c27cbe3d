-- Listing a school's enrolments pages by enrolment_id.
CREATE INDEX enrolments_school_listing ON enrolments (school_id, enrolment_id);
