"""The roster: pupils, staff, user groups, school settings and exports; the
one validator per record kind (``validation``, for form, API and CSV) and
the columns of each kind (``fields``). Each write keeps the system groups
and members' names right through ``membership``, below it; ``groups`` and
``imports`` build on it."""
