"""The application layer: use cases for the command line and a web page (no printing, no click)."""
