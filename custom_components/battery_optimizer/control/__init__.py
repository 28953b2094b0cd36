"""The control loop, its pure policy and manual commands."""
