"""Tests for the Battery Optimizer integration."""
