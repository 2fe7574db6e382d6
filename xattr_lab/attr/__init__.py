"""xattr_lab.attr."""
