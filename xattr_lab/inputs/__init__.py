"""xattr_lab.inputs."""
