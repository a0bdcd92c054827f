"""CSV import: template, upload, sniff, map, validate, review, commit, S3 drop."""
