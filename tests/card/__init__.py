"""Tests of the card package."""
