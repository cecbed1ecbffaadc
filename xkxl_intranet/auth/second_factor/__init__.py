"""The second factor at log-in: TOTP (RFC 6238) with one-time recovery codes (issue 22)."""
