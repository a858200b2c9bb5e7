"""Battery models: the interface every charger implements (:mod:`.base`)."""

from .base import BatteryModel, check_battery_model

__all__ = ["BatteryModel", "check_battery_model"]
