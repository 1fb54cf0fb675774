"""Adding and removing members (dialogs, multi-select) and the membership history."""
