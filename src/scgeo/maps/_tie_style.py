"""How a tie between organisations is drawn: its colour by kind, its line by strength.

One style for the network views (:mod:`scgeo.maps.network_view`) and the map's 「関係者のつながり」
layer (:mod:`scgeo.maps._ties`), so that a council sees the same tie the same way in both.
"""

__all__ = ["KIND_COLORS", "STRENGTH_DASH", "STRENGTH_WIDTH"]

KIND_COLORS = {  # by the kind of tie
    "operates": "#2b8cbe",
    "partner": "#31a354",
    "member": "#756bb1",
    "referral": "#e6550d",
    "support": "#d6616b",
}
STRENGTH_WIDTH = {"strong": 3.2, "medium": 1.8, "weak": 1.2}
STRENGTH_DASH = {"strong": "", "medium": "", "weak": "6 4"}
