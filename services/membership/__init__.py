"""Who is in which group: whether a group takes members by hand (`admission`), adding and removing
members by hand (`changes`), the books every change
keeps (member counts, primary groups, one group at a time: `books`), reading a group's members
(`members`) and the history of every join, leave and move (`history`)."""
