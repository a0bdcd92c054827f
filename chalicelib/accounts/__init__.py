"""Schools, accounts, sign-in, tokens and user-group permissions."""
