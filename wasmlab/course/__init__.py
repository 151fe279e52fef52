"""Course material that is data, not library: the deck's figures and comparisons the notebooks
check by measurement, and the C programs of the performance lesson (``programs/``).
"""
