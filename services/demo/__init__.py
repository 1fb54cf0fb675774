"""The demo shop a first start shows: Northwind Supply Co. with its groups, customers, two years
of orders, catalog, benefits and promotions, showing every concept of the product
(docs/concepts.md). Not part of the product's domain: nothing in it is a rule the shop follows.

data.py holds the shop as plain data, drawing.py draws its customers, orders and memberships from
that data (the same seed and day give the same shop), seeding.py writes it all into an empty
database (`customer-groups demo`, or the first start of an empty one).
"""
