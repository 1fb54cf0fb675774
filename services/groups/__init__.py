"""Groups: what a group is (name, code, type, status, parent, rule, capacity), creating, editing and
deleting one, the overview, and the versions of a group's rule."""
