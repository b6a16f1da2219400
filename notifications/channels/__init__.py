"""Delivery channels. Each raises ``DeliveryFailed`` saying whether a retry could help."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """One delivery did not go out. ``permanent`` sends it straight to the dead letters."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
