"""A group's report, the comparison of groups, and the period they cover."""
