"""xattr_lab.viz."""
