"""The browser console: static files served by the app at /."""
