"""What a config entry's settings mean, and its repair issues."""
