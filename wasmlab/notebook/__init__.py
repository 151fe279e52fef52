"""Everything a notebook shows: magics, display bundles, pictures, widgets and the kernel spec.
The top layer: it may import every other layer; none imports it.
"""
