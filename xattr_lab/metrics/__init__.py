"""xattr_lab.metrics."""
