"""Rules that decide an automatic or hybrid group's members: the rule itself (`model`), the fields
it may use (`fields`), turning it into a query (`compiler`), explaining it for one customer
(`explainer`), in words (`words`), previewing it (`preview`), running it (`runs`), tier ladders
that keep each customer on one of their rungs (`ladders`, made by `ladder_setup`), templates to
start from, and the clock rules read time by (`clock`)."""
