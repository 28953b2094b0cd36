"""Browser tests of the demo."""
