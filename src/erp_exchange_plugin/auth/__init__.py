"""Authentication: msal tokens (with a persisted cache) and HTTP sessions that trust the right CA."""
