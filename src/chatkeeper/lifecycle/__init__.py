"""Lifecycle: retention policies and floors, cold segments, the schedule (pure rules and formats)."""
