"""The groups' pages: the overview, a group's page with its sections (benefits, rule, promotions), and the group form."""
