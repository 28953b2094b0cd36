"""Forecast sources for the plan: PV, house load, and prices (published and beyond)."""
