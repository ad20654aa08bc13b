"""memprint: layer-wise C_T memorization curves of generative models, and fingerprints built on them."""

__version__ = "0.1.0"


class MemprintError(Exception):
    """A problem with the user's input: the message names it and says how to fix it."""
