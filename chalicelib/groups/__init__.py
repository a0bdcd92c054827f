"""Monitoring groups as the API serves them: teacher-made and system groups
(service), their members and the expiry sweep (members), machines
(machines). The records and the rules are in ``membership``, below the
roster; this package reads the roster (to add pupils and staff), so it sits
above it."""
