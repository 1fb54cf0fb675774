"""The promotions list and the promotion form."""
