//! Mailer (送信): sends the messages queued in the outbox over SMTP with lettre,
//! with retries and backoff. Handlers never talk SMTP; they write an outbox row.
