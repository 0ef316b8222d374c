"""Peewee records of installation settings: a tiny key/value table for values made once per database.

Today it holds the installation secret that keys generated heartbeat tokens. A value that several
engines must agree on belongs here; configuration people write belongs in the YAML.
"""

from __future__ import annotations

from peewee import CharField, TextField

from engine.storage.fields import InstantField
from engine.storage.records import BaseRecord


class SettingRecord(BaseRecord):
    """One installation setting: a name and its text value (binary values are stored in hex)."""

    key = CharField(max_length=100, primary_key=True)
    value = TextField()
    created_at = InstantField()

    class Meta:
        table_name = "settings"


SETTINGS_RECORDS = (SettingRecord,)
"""The settings table, created by schema version 10."""
