"""xattr_lab.diagnostics."""
