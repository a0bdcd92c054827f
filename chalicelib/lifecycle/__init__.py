"""A roster's year: the academic-year rollover (preview, apply, schedule,
undo) and the retention of leavers (erased after the school's years, the
audit keeping a tombstone). Above groups (it ends leavers' memberships),
below imports (whose worker runs its steps from the queue)."""
