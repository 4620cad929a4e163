"""trainmap: map where small NumPy networks train, stall or blow up."""
