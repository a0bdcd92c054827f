"""Schools and accounts: sign-up, sign-in with passwords and two factors,
sessions, email verification, password resets, throttling; and the pure
rules of user groups and permissions (``permissions``: the privilege
ceiling, ``Caller.for_user``). Below the roster, which manages the staff
these accounts belong to; above ``membership`` (sign-up writes the new
school's system groups)."""
