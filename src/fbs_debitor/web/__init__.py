"""The HTTP edge: FastAPI app factory and routes per audience."""
