"""Closed vocabularies shared by the answer scorer, the claim reader and the shape detector."""

# The colour names the shape detector can assign (by hue, saturation and value) and the scorer
# treats as one closed class; "grey" is read as "gray".
COLORS = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "gray", "white")
COLOR_ALIASES = {"grey": "gray"}
SHAPES = ("circle", "square", "triangle", "rectangle")
SIDES = ("left", "right", "top", "bottom")
