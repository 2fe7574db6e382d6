"""Built-in attribution methods, one module each (registered by name in :mod:`xattr_lab.attr.registry`)."""
