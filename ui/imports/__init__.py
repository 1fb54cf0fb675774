"""Importing customers and memberships from the shop's CSV files."""
