"""The Lovelace card this integration serves."""
