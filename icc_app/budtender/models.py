"""IVB, the virtual budtender: recommendations, effect quiz, Find My Product, POS widget: tables."""
