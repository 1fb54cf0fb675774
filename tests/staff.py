"""The staff account the page tests sign in with."""

OWNER_EMAIL = "owner@example.com"
OWNER_NAME = "Olivia Owner"
OWNER_PASSWORD = "correct horse battery"
