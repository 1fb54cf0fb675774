"""Webhooks out and the change feed: the outbox every change writes its events to in its own
transaction (outbox), the shop's endpoints and their delivery log (endpoints), the background
sender that signs and delivers the events in order (sender), the payloads (payloads) and the paged
feed of joins, leaves and moves (feed)."""
