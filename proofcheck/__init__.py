"""proofcheck: a symbolic-plus-numeric proof checker for loss-landscape theory."""
