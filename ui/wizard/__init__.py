"""The step-by-step wizard that creates and edits a group: basic information, customers, rules, pricing, visibility, payment terms, review."""
