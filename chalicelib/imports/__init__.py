"""CSV import: template, upload, sniff, map, validate, review, commit, S3 drop.

By stage: ``routes``/``handlers`` bind Chalice; ``service`` is what the API
asks (start, match columns, fix a row, commit, complete); ``messages``
parses a queue message once; ``worker`` turns it into one step; ``validating``
reads and checks a file; ``committing`` writes what was checked; ``store``
keeps the import's own records (``transition`` moves its ``Status``);
``kinds`` declares, once per kind, everything the stages do differently
(``matching`` holds its RowRules and the index rows are matched against);
``acting`` says who a step acts as; ``sniff``, ``lines``, ``columns``,
``rows`` and ``messages`` are pure. Inside the package, dependencies run one
way: matching ← rows ← kinds ← store ← acting ← validating ← committing ← service ←
worker. The package sits on top: it uses the roster, groups, membership and
accounts, and nothing uses it.
"""
