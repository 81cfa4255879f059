"""Networks (one file each, torch only) and self-describing checkpoints."""
