"""Telling people: in-app notifications (站内信, the bell) and an outbox of mails and SMS sent by the clock."""
