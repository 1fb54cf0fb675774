"""Signing in, who is signed in, staff accounts, one's own account, API tokens and the audit log."""
