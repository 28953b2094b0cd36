"""Readings of Home Assistant entities turned into optimizer inputs."""
