"""Every table of the current schema, gathered from each context's records module.

Each bounded context keeps its peewee records in its own module (`records.py` for monitoring,
`accounts_records.py`, `alerting_records.py`, ...) and appends its tuple here, so adding a context
touches one line of this file and one `Migration` in `migrations.py`.
"""

from __future__ import annotations

from engine.storage.accounts_records import ACCOUNTS_RECORDS
from engine.storage.alerting_records import ALERTING_RECORDS
from engine.storage.apikey_records import APIKEY_RECORDS
from engine.storage.billing_records import BILLING_RECORDS
from engine.storage.cluster_records import CLUSTER_RECORDS
from engine.storage.command_records import COMMAND_RECORDS
from engine.storage.ping_records import PING_RECORDS
from engine.storage.records import (
    CheckRecord,
    CheckStateRecord,
    FlipRecord,
    ResultRecord,
    SchemaVersionRecord,
)
from engine.storage.rollup_records import ROLLUP_RECORDS
from engine.storage.settings_records import SETTINGS_RECORDS

MONITORING_RECORDS = (CheckRecord, CheckStateRecord, ResultRecord, FlipRecord)

ALL_RECORDS = (
    SchemaVersionRecord, *MONITORING_RECORDS, *ACCOUNTS_RECORDS, *ROLLUP_RECORDS, *ALERTING_RECORDS,
    *APIKEY_RECORDS,
    *CLUSTER_RECORDS,
    *SETTINGS_RECORDS,
    *BILLING_RECORDS,
    *COMMAND_RECORDS,
    *PING_RECORDS,
)
"""Every table of the current schema; an empty database gets all of them at once."""
