"""Tests of the plan package."""
