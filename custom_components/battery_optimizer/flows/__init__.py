"""Helpers of the config flow: form schemas, input checks, tariff resolution."""
