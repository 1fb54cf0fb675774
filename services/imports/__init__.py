"""Data coming in from the shop's own files: customers and group memberships from CSV (`customers`)."""
