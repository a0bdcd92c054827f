"""Shared plumbing every package may use, and that uses none of them:
configuration (every resource name in one place), errors, route declaration
and OpenAPI, JSON schema checks, DynamoDB helpers (``db``), AWS clients, the
audit log (written by every package, in the change's own transaction), ISO
times, paging, CSV output and logging."""
