"""Staff of schools: profiles with the subjects they can teach, teaching assignments, and the
teachers-by-subject-and-age summary the teacher-shortage forecast uses."""
