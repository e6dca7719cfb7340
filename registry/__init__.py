"""Cancer registry core: the application factory and what every capability shares."""
from registry.app import create_app

__all__ = ["create_app"]
