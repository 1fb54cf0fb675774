"""Groups: what a group is (name, code, type, status, parent, rule, capacity), creating, editing and
deleting one, the overview, and the versions of a group's rule. A group's fields are declared once
in `fields`; `checks` says what is wrong with an input from facts read beforehand, without a database."""
