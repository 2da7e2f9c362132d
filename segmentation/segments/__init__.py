"""What segments mean: personas, rules, control groups, membership history."""
