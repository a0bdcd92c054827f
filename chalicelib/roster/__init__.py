"""Pupils, staff, user groups and the audit log."""
