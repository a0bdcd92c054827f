"""What the school's other software reads: the change feed (and the OneRoster service)."""
