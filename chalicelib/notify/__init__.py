"""The email outbox and its scheduled SES sender."""
