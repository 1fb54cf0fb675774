"""Building a rule, its live preview, and why a customer matches."""
