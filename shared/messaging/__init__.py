"""Messaging plumbing every service uses: outbox, relay, idempotent consumer, dead letters."""
