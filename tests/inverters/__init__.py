"""Tests of the inverter drivers."""
