"""Data coming in from the shop's own files: an uploaded CSV file and what its columns may be mapped
to (`files`), then one module per kind of import: customers (`customers`) and group memberships
(`memberships`)."""
