"""SageMaker endpoints, split by what belongs together (see ``endpoints.py``)."""
from .endpoints import SageMakerEndpoints

__all__ = ["SageMakerEndpoints"]
