//! redb storage: every table, transactions, indexes, the outbox.
