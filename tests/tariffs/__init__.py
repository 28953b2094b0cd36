"""Tests of the Octopus tariff client and the price coordinator."""
