"""Interpretable inputs: image regions (superpixels, grids, user segmentation maps).

Stable API: :class:`Regions` and :func:`make_regions`. Only numpy (and scikit-image for superpixels,
imported on use) is needed.
"""

from xattr_lab.inputs.regions import Regions, make_regions

__all__ = ["Regions", "make_regions"]
