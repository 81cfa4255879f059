"""ZTF alert packets -> tidy light-curve, metadata and cutout tables (the `alerts` stage)."""
