"""xattr_lab.bench."""
