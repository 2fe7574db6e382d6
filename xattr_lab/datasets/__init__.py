"""xattr_lab.datasets."""
