"""School facilities and connectivity (classrooms, labs, libraries, computers, internet), with
every reported revision kept."""
