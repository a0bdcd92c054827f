"""CSV import: template, upload, sniff, map, validate, review, commit, S3 drop.

By stage: ``routes``/``handlers`` bind Chalice; ``service`` is what the API
asks (start, match columns, fix a row, commit, complete); ``worker`` turns one
queue message into one step; ``validating`` reads and checks a file;
``commit`` writes what was checked; ``store`` keeps the import's own records;
``acting`` says who a step acts as; ``sniff``, ``columns`` and ``rows`` are
pure. Dependencies run one way: store ← acting ← validating ← commit ←
service ← worker.
"""
