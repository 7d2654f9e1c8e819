"""Lower-face synthesis: the variants that make the dubbed mouth (core.lowerface.registry), the
patch each hands over per frame and the one step that composites it (core.lowerface.patch)."""

from core.lowerface import variants as _variants  # noqa: F401  (registers the built-in variants)
from core.lowerface.registry import (DEFAULT, VARIANTS, get_variant, make_synthesizer, names,
                                     ready_variants, trained_network)

__all__ = ["DEFAULT", "VARIANTS", "get_variant", "make_synthesizer", "names", "ready_variants",
           "trained_network"]
