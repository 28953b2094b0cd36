"""The optimizer's result as Home Assistant uses it: the plan, its history, savings."""
