"""Who is in which group, as records: Group, Membership and Machine, the
system groups kept in step with the roster (a year, a registration group,
All pupils, All staff), the pure rules for them, and the bookkeeping a roster
write needs (a member renamed, a member forgotten).

It sits below accounts and roster so that their writes can keep groups right
without reaching up; the teacher-facing use cases (making a group, adding
members, the expiry sweep) are in ``groups``, above the roster they read.
Depends on ``core`` only.
"""
