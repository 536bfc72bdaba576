"""rtconform matrix: every producer → Archive → consumer chain among N systems, as a grid."""
