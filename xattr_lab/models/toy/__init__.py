"""xattr_lab.models/toy."""
