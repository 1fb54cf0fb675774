"""A customer's effective benefits, the hierarchy page, overlaps and the price check."""
