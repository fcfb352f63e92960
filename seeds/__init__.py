"""The seed articles and watchlist shipped with newswatch (package data only)."""
