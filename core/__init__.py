"""The shared kernel: settings, database base and session, errors, identities, the outbox."""
