"""The promptdeck command line."""
