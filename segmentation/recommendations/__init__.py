"""What to offer each customer (collaborative filtering) and each segment (association rules)."""
