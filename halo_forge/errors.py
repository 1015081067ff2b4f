"""The one exception type whose message is meant for the user, printed as a single sentence."""


class HaloForgeError(Exception):
    """A problem the user can fix: bad input, a missing file, no network for a hub id."""
