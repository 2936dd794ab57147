"""Alert messages about incidents, and their delivery through SNS."""
