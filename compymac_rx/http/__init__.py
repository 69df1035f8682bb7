"""ASGI middleware that wraps every route of the app: origins, upload cap, security headers."""
