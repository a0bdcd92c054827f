"""Shared plumbing: configuration, errors, HTTP routing, DynamoDB helpers."""
