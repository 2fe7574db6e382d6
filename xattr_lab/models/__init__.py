"""xattr_lab.models."""
