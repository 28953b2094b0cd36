"""Octopus Agile tariff prices: API client and price coordinator."""
