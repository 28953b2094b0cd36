"""Tests for the optimizer package (no Home Assistant needed)."""
