"""Mesa agent classes and decision rules for treatysim."""
