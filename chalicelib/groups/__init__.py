"""Monitoring groups: system groups, teacher-made groups, memberships, machines, expiry."""
