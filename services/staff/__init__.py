"""The people who run the shop in the app: who is acting and what their role lets them do (`actor`),
staff accounts and signing in (`accounts`), API tokens (`tokens`) and the audit log (`audit`)."""
