"""Notification delivery: the Apprise sender, sync, run by the notifier in worker threads."""
